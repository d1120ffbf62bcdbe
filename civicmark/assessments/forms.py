"""The score cards as Django forms (the assessor's; the community's self-assessment): one form per item, prefixed `i<item id>`, so a
page of cards posts as one and a single card posts alone (htmx) with the same names.

The form reads types only (a number of at most one decimal place, a whole count, an id); what
an item allows is the one validator's (scoring.validate) and the writer puts its refusals back
beside the field they name. Bound to what was posted, the form shows back what was typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicmark.core.errors import ApplicationError
from civicmark.core.formfields import StrictDecimalField, StrictIntegerField
from civicmark.core.parsing import parse_id
from civicmark.scoring.validate import Invalid
from civicmark.scoring.writer import ScoreEntry

# The validator's names for an entry's parts, as this form names its fields.
FIELD_OF = {"points": "points", "occurrences": "occurrences", "reason": "reason"}
FIELD_OF["not_applicable"] = "na"


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
    na = forms.BooleanField(label=_("not applicable"), required=False)
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
        value = self.data.get
        return not any(
            (value(self.add_prefix(name)) or "").strip()
            for name in ("points", "occurrences", "reason", "version")
        ) and value(self.add_prefix("na")) in (None, "", "off")

    def entry(self) -> ScoreEntry | None:
        """The entry for the writer, None when the card is blank or a box is not a number (its
        error is then on the form)."""
        if self.is_blank() or not self.is_valid():
            return None
        data = self.cleaned_data
        # As typed, even beside "not applicable": the validator says what is wrong.
        points = None if self.counted else data["points"]
        occurrences = data["occurrences"] if self.counted else None
        return ScoreEntry(
            self.item,
            points,
            data["na"],
            data["reason"],
            parse_id(data["version"]),
            occurrences=occurrences,
        )

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
