"""The assessor's score cards: one form per item (assessments.forms), saved a page at a time or
one card at a time, always through the one writer (scores_save -> scoring.writer). A refusal
goes back beside the field it names and every card keeps what was typed; a blank card is "not
scored", never a zero."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from civicmark.assessments.forms import ScoreCardForm, card_blank, card_entry
from civicmark.assessments.services import ScoreErrors, scores_write
from civicmark.core.errors import ApplicationError
from civicmark.scoring.models import Score
from civicmark.scoring.writer import ScoreEntry


@dataclass
class Saved:
    """What a save of cards did: the scores written, and the refusal (nothing written then);
    `held`, when something was written, the item ids the assessor now holds in the community."""

    scores: list[Score] = field(default_factory=list)
    refusal: str = ""
    typed: int = 0  # cards that held an entry (not blank)
    held: set[int] | None = None


def cards(items: list[Any], mine: dict[int, Score], data: Any = None) -> list[ScoreCardForm]:
    """A card per item: bound to what was posted, else showing the stored score."""
    return [ScoreCardForm(data, item=i, score=mine.get(i.pk)) for i in items]


class PostedCard:
    """A posted card read without its form (`forms.card_entry`, the form's own fields); the
    form is built only when the page is refused, to show each error beside its field and what
    was typed (`form`). Saved through `cards_save` as a form is."""

    def __init__(self, data: Any, item: Any) -> None:
        self.data, self.item = data, item
        self._entry = card_entry(data, item)
        self._form: ScoreCardForm | None = None

    def is_blank(self) -> bool:
        return card_blank(self.data, self.item)

    def entry(self) -> ScoreEntry | None:
        return self._entry

    def refuse(self, error: ApplicationError) -> None:
        self.form.refuse(error)

    @property
    def form(self) -> ScoreCardForm:
        if self._form is None:
            self._form = ScoreCardForm(self.data, item=self.item)
        return self._form


def posted_cards(items: list[Any], data: Any) -> dict[int, PostedCard]:
    """Cards only for the items that hold an entry in `data` (the others are blank: nothing to
    save), by item id; a page is saved from these alone, and the full page built only to show a
    refusal (`cards`, reusing these so each keeps its error)."""
    return {i.pk: PostedCard(data, i) for i in items if not card_blank(data, i)}


def cards_save(
    *, actor: Any, round_: Any, enrollment: Any, forms: Sequence[ScoreCardForm | PostedCard]
) -> Saved:
    """Save every card that holds an entry, all or none. A box that is not a number, or the
    writer's refusal of an entry, is put on its card and nothing is written."""
    entries = [(form, form.entry()) for form in forms if not form.is_blank()]
    if any(entry is None for _form, entry in entries):
        return Saved(refusal=_("Nothing was saved: correct the rows marked below."))
    if not entries:
        return Saved()
    by_item = {form.item.pk: form for form, _entry in entries}
    try:
        written = scores_write(
            actor=actor,
            round_=round_,
            enrollment=enrollment,
            entries=[entry for _form, entry in entries if entry is not None],
        )
    except ScoreErrors as exc:
        for key, error in exc.errors.items():
            by_item[key].refuse(error)
        return Saved(refusal=exc.message, typed=len(entries))
    except ApplicationError as exc:
        return Saved(refusal=exc.message, typed=len(entries))
    held = {item for where, item in written.held if where == enrollment.pk}
    return Saved(scores=written.saved, typed=len(entries), held=held)


def progress(items: list[Any], mine: Container[int]) -> dict[str, int]:
    """How far this assessor is with this community: items scored (N/A counts) of all."""
    return {"done": sum(1 for i in items if i.pk in mine), "total": len(items)}
