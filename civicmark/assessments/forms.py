"""The score cards as Django forms (the assessor's; the community's self-assessment): one form per item, prefixed `i<item id>`, so a
page of cards posts as one and a single card posts alone (htmx) with the same names.

The form reads types only (a number of at most one decimal place, a whole count, an id); what
an item allows is the one validator's (scoring.validate) and the writer puts its refusals back
beside the field they name. Bound to what was posted, the form shows back what was typed."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicmark.core.errors import ApplicationError
from civicmark.core.formfields import (
    StrictDateField,
    StrictDecimalField,
    StrictIntegerField,
    TickField,
)
from civicmark.core.parsing import parse_id
from civicmark.scoring.validate import Invalid
from civicmark.scoring.writer import ScoreEntry

# The validator's names for an entry's parts, as this form names its fields.
FIELD_OF = {"points": "points", "occurrences": "occurrences", "reason": "reason"}
FIELD_OF["not_applicable"] = "na"


def card_blank(data: Any, item: Any) -> bool:
    """`ScoreCardForm.is_blank` for the item's card in `data`, asked without building the form
    (a page is saved from the cards that hold an entry alone)."""
    value = data.get
    prefix = f"i{item.pk}-"
    return not any(
        (value(prefix + name) or "").strip()
        for name in ("points", "occurrences", "reason", "version")
    ) and value(prefix + "na") in (None, "", "off")


class ScoreCardForm(forms.Form):
    points = StrictDecimalField(
        label=_("points"),
        places=1,
        max_digits=6,
        min_value=None,
        exact=True,
        required=False,
        # A text box, not type=number: a browser empties a number box holding "12,5" or "abc",
        # and what the person typed must come back to him with the error.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    occurrences = StrictIntegerField(
        label=_("occurrences"),
        min_value=None,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    na = TickField(label=_("not applicable"), required=False)
    reason = forms.CharField(label=_("reason for a deduction"), required=False, max_length=2000)
    version = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, item: Any, score: Any = None, **kwargs: Any) -> None:
        self.item = item
        if score is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "points": "" if score.not_applicable else score.points,
                "occurrences": "" if score.not_applicable else score.occurrences,
                "na": score.not_applicable,
                "reason": score.reason,
                "version": score.version,
            }
        kwargs["prefix"] = f"i{item.pk}"
        super().__init__(*args, **kwargs)

    @property
    def counted(self) -> bool:
        return bool(self.item.kind == "per_occurrence")

    def is_blank(self) -> bool:
        """Nothing typed and never scored: not scored yet, nothing to save (an empty box is never
        a zero). A scored row emptied is not blank: the validator refuses it."""
        return card_blank(self.data, self.item)

    def entry(self) -> ScoreEntry | None:
        """The entry for the writer, None when the card is blank or a box is not a number (its
        error is then on the form)."""
        if self.is_blank() or not self.is_valid():
            return None
        return _card_entry(self.item, self.cleaned_data)

    def refuse(self, error: ApplicationError) -> None:
        """The writer's refusal beside the field it names (a conflict beside the points)."""
        field = FIELD_OF.get(error.field, "points") if isinstance(error, Invalid) else "points"
        if self.counted and field == "points":
            field = "occurrences"
        self.add_error(field, error.message)

    def first_error(self) -> str:
        """The card's error as one sentence naming the item (the page's summary and tests)."""
        for name, errors in self.errors.items():
            if errors:
                message = str(errors[0])
                field = self.fields.get(name)
                if isinstance(field, StrictDecimalField | StrictIntegerField) and (
                    self.item.code not in message
                ):
                    return f"{self.item.code}: {message}"
                return message
        return ""


def _card_entry(item: Any, data: dict[str, Any]) -> ScoreEntry:
    counted = item.kind == "per_occurrence"
    # As typed, even beside "not applicable": the validator says what is wrong.
    return ScoreEntry(
        item,
        None if counted else data["points"],
        data["na"],
        data["reason"],
        parse_id(data["version"]),
        occurrences=data["occurrences"] if counted else None,
    )


_NO_FILES: MultiValueDict[str, Any] = MultiValueDict()


def card_entry(data: Any, item: Any) -> ScoreEntry | None:
    """`ScoreCardForm(data, item=item).entry()` without building the form: each box read by the
    form's own declared field and widget, the same `clean` the form's full_clean calls (the
    form has no clean_<field> nor clean of its own, and a field keeps no state between calls).
    None when the card is blank or a box is not a number: build the form then, to show the
    error beside its field and what was typed. A page of cards then costs no deep copy of five
    fields per card (issue 19: 14% of the profiled save); `tests/test_score_card_entry.py`
    holds the two equal."""
    if card_blank(data, item):
        return None
    prefix = f"i{item.pk}-"
    cleaned: dict[str, Any] = {}
    for name, field in ScoreCardForm.base_fields.items():
        try:
            cleaned[name] = field.clean(
                field.widget.value_from_datadict(data, _NO_FILES, prefix + name)
            )
        except ValidationError:
            return None
    return _card_entry(item, cleaned)


class SelfScoreForm(forms.Form):
    """One item: points (an empty box means "not scored yet", never 0), the explanation, and a
    document or photo that proves it. Field names carry the item (`i<id>-points`), so that one
    page form holds every card."""

    points = StrictDecimalField(
        label=_("points"),
        places=1,
        max_digits=6,
        min_value=None,
        exact=True,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    explanation = forms.CharField(
        label=_("explanation"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Two inputs, so that a phone offers both: its camera (`capture`), or any stored file.
    photo = forms.FileField(label=_("photo"), required=False)
    file = forms.FileField(label=_("file"), required=False)

    def __init__(self, *args: Any, item: Any, stored: bool = False, **kwargs: Any) -> None:
        kwargs["prefix"] = f"i{item.pk}"
        super().__init__(*args, **kwargs)
        self.item, self.stored = item, stored

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        # An emptied box is not a zero either: a score once given is changed, not erased.
        emptied = self.stored or data.get("explanation", "").strip()
        if "points" in data and data["points"] is None and emptied:
            self.add_error(
                "points",
                gettext("Give the points for %s: an empty box is not a zero.") % self.item.code,
            )
        return data

    @property
    def has_upload(self) -> bool:
        return any(self.files.get(self.add_prefix(name)) for name in ("photo", "file"))

    @property
    def uploads(self) -> list[Any]:
        return [f for name in ("photo", "file") if (f := self.cleaned_data.get(name))]


# --- The workflow's and the round's forms (issue 16: no typed word lost) ----------------------
#
# Each reads what a page posts and nothing more: a box's text within its length (Django's
# CharField also refuses a NUL), an action among those the page offers, ticked rows by id. What
# a step allows is its service's rule; a service's refusal comes back on the form
# (`refuse`), beside the field the person typed into, or at the top of the form.

TEXT_MAX = 4000  # a comment, a note, a reason: a page of text, not a file pasted in


def _text(label: Any, *, max_length: int = TEXT_MAX, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length)


class IdsField(forms.Field):
    """Rows ticked on a page, posted by their database ids; a value that is no id is refused
    (it was not a box of the page), never read as another row."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        ids = []
        for raw in values:
            number = parse_id(raw)
            if number is None:
                raise forms.ValidationError(
                    gettext("“%s” is not one of the rows listed: tick them again.") % shown(raw),
                    code="invalid",
                )
            ids.append(number)
        return ids


def shown(raw: Any) -> str:
    """What was posted, short and printable enough to quote in a message."""
    text = "".join(c for c in str(raw) if c.isprintable()).strip()
    return text if len(text) <= 40 else text[:40] + "…"


def _choices(form: forms.Form, name: str, choices: Any) -> None:
    """The choices a page offers, known only once the form knows its page."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class RefusableForm(forms.Form):
    """A form whose service may still refuse: the refusal goes beside `refusal_field` (the box
    the person typed into), or at the top of the form when it names none."""

    refusal_field: str | None = None

    def refuse(self, error: ApplicationError, field: str | None = None) -> None:
        self.add_error(field or self.refusal_field, error.message)

    def kept(self, name: str) -> Any:
        """A field's value as posted (or its initial value), for a hand-written template."""
        return self[name].value()


class StepForm(RefusableForm):
    """The communities page: the ticked communities, or every one the filter finds, to a state."""

    ACTIONS = (("move", "move"),)
    action = forms.ChoiceField(choices=ACTIONS)
    enrollment = IdsField(required=False)
    every = TickField(required=False)
    to = forms.ChoiceField(label=_("Move the ticked communities to"))
    comment = _text(_("comment"))

    def __init__(self, *args: Any, states: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "to", list(states))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if not data.get("every") and "enrollment" in data and not data["enrollment"]:
            self.add_error("enrollment", gettext("Tick the communities to move."))
        return data


class SignOffForm(RefusableForm):
    """Finalise a round (or a county's part of it), or reopen it with a reason."""

    action = forms.ChoiceField(
        choices=(("finalise", _("Finalise")), ("reopen", _("Reopen"))),
        error_messages={"invalid_choice": _("Choose to finalise or to reopen the round.")},
    )
    round = StrictIntegerField(required=False, min_value=1)  # the campaign page names it
    county = forms.CharField(required=False, max_length=32)
    reason = _text(_("reason"))
    confirm = TickField(required=False)

    def __init__(self, *args: Any, confirming: bool = False, **kwargs: Any) -> None:
        # The round's own page asks the lead to confirm that he has checked the round before
        # he finalises it as a whole (the campaign's list of rounds asks nothing more).
        super().__init__(*args, **kwargs)
        self.confirming = confirming

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if (
            self.confirming
            and data.get("action") == "finalise"
            and not (data.get("county") or "").strip()
            and not data.get("confirm")
        ):
            self.add_error(
                "confirm",
                _("Tick “I have checked the round” to finalise it: nothing was finalised."),
            )
        return data

    @property
    def refusal_field(self) -> str | None:  # type: ignore[override]
        return "reason" if self.data.get("action") == "reopen" else None


class RectificationForm(RefusableForm):
    """A finding's status and what was done about it."""

    refusal_field = "note"
    id = forms.UUIDField(error_messages={"invalid": _("That finding is not listed here.")})
    status = forms.ChoiceField(label=_("status"))
    note = _text(_("what was done"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from civicmark.assessments.models import RectificationStatus

        super().__init__(*args, **kwargs)
        _choices(self, "status", RectificationStatus.choices)


class RectificationFileForm(RefusableForm):
    """A document that shows a finding was fixed."""

    refusal_field = "file"
    id = forms.UUIDField(error_messages={"invalid": _("That finding is not listed here.")})
    file = forms.FileField(
        label=_("evidence of the fix"),
        error_messages={"required": _("Choose a file to upload.")},
    )


class EvidenceForm(RefusableForm):
    """One document for the items chosen, or a new version of a document already attached."""

    refusal_field = "file"
    file = forms.FileField(
        label=_("file"), error_messages={"required": _("Choose a file to attach.")}
    )
    items = forms.TypedMultipleChoiceField(
        label=_("The items it proves"),
        coerce=int,
        required=False,
        error_messages={
            "invalid_choice": _("%(value)s is not an item of this standard: choose from the list.")
        },
    )
    supersedes = forms.ChoiceField(
        label=_("A new version of"),
        required=False,
        error_messages={
            "invalid_choice": _("Choose the document this one replaces from the list.")
        },
    )

    def __init__(self, *args: Any, items: Any, documents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "items", [(i.pk, i.code) for i in items])
        _choices(self, "supersedes", [("", "")] + [(str(d.public_id), d.name) for d in documents])


class ReviewForm(RefusableForm):
    """The town's review of a submitted self-assessment: passed on, or returned with a comment
    on the whole and a note on each item that must change (`note-<item id>`)."""

    action = forms.ChoiceField(
        choices=(("reviewed", "reviewed"), ("return", "return")),
        error_messages={"invalid_choice": _("Choose to pass it on or to return it.")},
    )
    comment = _text(_("comment"))

    def __init__(self, *args: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"note-{item.pk}"] = _text(item.code)

    def notes(self) -> dict[Any, str]:
        return {i: self.cleaned_data.get(f"note-{i.pk}", "") for i in self.items}

    def note_errors(self) -> dict[int, str]:
        """Each item's note error, for the card that holds the note's box."""
        return {
            i.pk: " ".join(str(e) for e in self.errors[f"note-{i.pk}"])
            for i in self.items
            if f"note-{i.pk}" in self.errors
        }


class CommendationForm(RefusableForm):
    """Confirm, decline or propose the ticked communities for commendation."""

    action = forms.ChoiceField(
        choices=(("confirm", "confirm"), ("decline", "decline"), ("propose", "propose")),
        error_messages={"invalid_choice": _("Choose what to do with the ticked communities.")},
    )
    enrollment = IdsField(required=False)
    comment = _text(_("comment"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if "enrollment" in data and not data["enrollment"]:
            self.add_error("enrollment", gettext("Tick the communities and choose what to do."))
        return data


class VetoForm(RefusableForm):
    """Record a veto finding, lift a standing veto, or withdraw one's own record of it."""

    refusal_field = "text"
    action = forms.ChoiceField(
        choices=(("record", "record"), ("lift", "lift"), ("withdraw", "withdraw")),
        error_messages={"invalid_choice": _("Choose one of the vetoes listed.")},
    )
    veto = forms.ChoiceField(
        error_messages={"invalid_choice": _("Choose one of the vetoes listed.")}
    )
    text = _text(_("What was found"), max_length=2000)
    finding = forms.UUIDField(
        required=False, error_messages={"invalid": _("That finding was already withdrawn.")}
    )

    def __init__(self, *args: Any, vetoes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "veto", [(v.code, v.code) for v in vetoes])

    def first_error(self) -> str:
        return next((str(e[0]) for e in self.errors.values() if e), "")


class CardForm(forms.Form):
    """The card to come back to after a document is removed: an item's code, or nothing."""

    card = forms.RegexField(regex=r"\A[\w.-]{1,32}\Z", required=False)

    def anchor(self) -> str:
        """`#card-<code>`, or nothing for a value no item's code could be."""
        if not self.is_valid() or not self.cleaned_data["card"]:
            return ""
        return f"#card-{self.cleaned_data['card']}"


class SettleForm(RefusableForm):
    """The lead settles an item its assessors disagree on: points (one decimal place; a penalty
    item's may be negative) or not applicable, and why. `enrollment` and `item` are the row's
    hidden ids; a pair that is not of this campaign is refused at the top of the form."""

    refusal_field = "points"
    enrollment = StrictIntegerField(min_value=1, widget=forms.HiddenInput)
    item = StrictIntegerField(min_value=1, widget=forms.HiddenInput)
    points = StrictDecimalField(
        label=_("points"), places=1, max_digits=6, min_value=None, exact=True, required=False
    )
    not_applicable = TickField(label=_("N/A"), value="1")
    reason = forms.CharField(
        label=_("reason"),
        max_length=2000,
        error_messages={"required": _("Say why the item is settled at this value.")},
    )

    def __init__(self, *args: Any, campaign: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if "enrollment" in data and "item" in data:
            data["enrollment"] = (
                self.campaign.enrollments.filter(pk=data["enrollment"] or 0)
                .select_related("community")
                .first()
            )
            data["item"] = self.campaign.standard.items.filter(pk=data["item"] or 0).first()
        if data.get("enrollment") is None or data.get("item") is None:
            self.add_error(None, gettext("That item or community is not part of this round."))
        if data.get("not_applicable"):
            data["points"] = None
        return data

    def first_error(self) -> str:
        return next((str(e[0]) for e in self.errors.values() if e), "")


class UUIDsField(forms.Field):
    """People ticked on a page, posted by their public ids; a value that is no id is refused."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[uuid.UUID]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        found = []
        for raw in values:
            try:
                found.append(uuid.UUID(str(raw)))
            except ValueError:
                raise forms.ValidationError(
                    gettext("“%s” is not one of the people listed: tick them again.") % shown(raw),
                    code="invalid",
                ) from None
        return found


class RoundSettingsForm(RefusableForm):
    """A round's window, rules, lead, panel and coverage, as its lead sets them (a county
    officer's part of a split round: its rule, panel and coverage only, `county` naming it).
    `covers_codes` is None when the page had no box for codes (the ticks are read)."""

    action = forms.CharField(required=False, max_length=16)
    county = forms.CharField(required=False, max_length=32)
    opens_on = StrictDateField(label=_("opens"), required=False)
    closes_on = StrictDateField(label=_("closes"), required=False)
    combine_rule = forms.ChoiceField(label=_("combining rule"), required=False)
    rescore = forms.ChoiceField(label=_("re-scores"), required=False)
    lead = forms.UUIDField(
        label=_("Lead"),
        required=False,
        error_messages={"invalid": _("Choose the lead from the list.")},
    )
    panel = UUIDsField(required=False)
    covers = IdsField(required=False)
    covers_codes = forms.CharField(required=False, max_length=200_000)
    confirm_removal = TickField(value="1")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from civicmark.campaigns.models import CombineRule, Rescore

        super().__init__(*args, **kwargs)
        _choices(self, "combine_rule", [("", ""), *CombineRule.choices])
        _choices(self, "rescore", [("", ""), *Rescore.choices])

    def clean_covers_codes(self) -> str | None:
        return self.cleaned_data["covers_codes"] if "covers_codes" in self.data else None

    def require_window(self) -> bool:
        """The whole round's form needs both dates: refused beside the box left empty."""
        for name in ("opens_on", "closes_on"):
            if name not in self.errors and self.cleaned_data.get(name) is None:
                self.add_error(name, gettext("Enter the date."))
        return not self.errors
