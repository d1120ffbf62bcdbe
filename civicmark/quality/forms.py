"""The calibration forms: the lead's exercise, and a member's sheet as one card per item (like
the real score cards, prefixed `i<item id>`). The forms read types; what an item allows is the
one validator's (`scoring.validate`), whose refusal goes back beside the field it names."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.accounts.roles import Role
from civicmark.core.formfields import StrictDecimalField, StrictIntegerField, TickField
from civicmark.divisions.models import Division
from civicmark.quality import sampling
from civicmark.quality.appeals import MAX_TEXT
from civicmark.quality.models import CalibrationScore, SizeKind
from civicmark.scoring.validate import Invalid
from civicmark.standards.models import Item, VetoItem


class ItemChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.title} ({obj.points})"


class ExerciseForm(forms.Form):
    """What the panel scores: a community of the campaign, or evidence described in words (for
    a recorded set of evidence), and which items."""

    community = forms.ModelChoiceField(
        label=_("reference community"),
        queryset=Division.objects.none(),
        required=False,
        empty_label=_("none: the evidence described below"),
    )
    evidence = forms.CharField(
        label=_("evidence scored"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the panel scores when it is not a community: a recorded file set."),
    )
    items = ItemChoice(
        label=_("items"), queryset=Item.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, communities: QuerySet[Division], items: QuerySet[Item], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = communities
        choice = self.fields["items"]
        assert isinstance(choice, forms.ModelMultipleChoiceField)
        choice.queryset = items
        choice.error_messages["required"] = _("Tick at least one item for the panel to score.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("community") and not (data.get("evidence") or "").strip():
            self.add_error(
                "evidence", _("Name a reference community or describe the evidence scored.")
            )
        return data


class SheetCardForm(forms.Form):
    """One item of a member's calibration sheet: points, and why for a deduction."""

    points = StrictDecimalField(
        label=_("points"),
        places=1,
        max_digits=6,
        min_value=None,
        exact=True,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("reason for a deduction"), required=False, max_length=2000)

    def __init__(
        self, *args: Any, item: Item, score: CalibrationScore | None = None, **kwargs: Any
    ) -> None:
        self.item = item
        if score is not None and "initial" not in kwargs:
            kwargs["initial"] = {"points": score.points, "reason": score.reason}
        kwargs["prefix"] = f"i{item.pk}"
        super().__init__(*args, **kwargs)

    def is_blank(self) -> bool:
        """Nothing typed: not scored (an empty box is never a zero)."""
        return not any(
            (self.data.get(self.add_prefix(name)) or "").strip() for name in ("points", "reason")
        )

    def refuse(self, error: Invalid) -> None:
        self.add_error("reason" if error.field == "reason" else "points", error.message)


# --- county accuracy (sampling.py) -----------------------------------------------------------


class SamplingSettingsForm(forms.Form):
    """The campaign's sample sizes: a share or a count per county, usual and enlarged, and the
    threshold that enlarges a county's next sample. The rule on them is the service's
    (`sampling.sizes_refusal`), shown beside the field it names."""

    kind = forms.ChoiceField(label=_("sample size as"), choices=SizeKind.choices)
    base = StrictIntegerField(label=_("usual size"), min_value=1, max_value=10000)
    enlarged = StrictIntegerField(label=_("enlarged size"), min_value=1, max_value=10000)
    threshold = StrictDecimalField(
        label=_("deviation threshold (points)"),
        places=2,
        max_digits=6,
        min_value=Decimal("0.01"),
        help_text=_(
            "A county whose sample's mean absolute deviation of the total (city minus county) "
            "lies above this gets the enlarged size at its next draw."
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        refused = sampling.sizes_refusal(
            data["kind"], data["base"], data["enlarged"], data["threshold"]
        )
        if refused is not None:
            self.add_error(*refused)
        return data


class DrawForm(forms.Form):
    """The draw: a seed to repeat a draw, or none for a fresh random one (recorded either way)."""

    seed = StrictIntegerField(
        label=_("seed"),
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text=_("Leave empty for a random seed; the seed is recorded with the draw."),
    )


# --- appeals (appeals.py) ----------------------------------------------------------------------


class AppealForm(forms.Form):
    """The community's appeal: the one item or veto finding it contests, why, and a document.
    The subject is offered as `item:<id>` / `veto:<id>` among those the round judged."""

    subject = forms.ChoiceField(
        label=_("what the appeal contests"),
        error_messages={
            "invalid_choice": _("Choose an item or veto finding of this round from the list."),
            "required": _("Choose the one item or veto finding the appeal contests."),
        },
    )
    statement = forms.CharField(
        label=_("statement"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Say what the appeal contests and why.")},
        help_text=_("What was judged wrongly, and what shows it."),
    )
    file = forms.FileField(
        label=_("a document that supports it (optional)"),
        required=False,
        help_text=_("A PDF, photo, Word, Excel or WPS document; photos lose their location."),
    )

    def __init__(
        self, *args: Any, items: Iterable[Item], vetoes: Iterable[VetoItem], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.by_value: dict[str, Item | VetoItem] = {}
        choices: list[tuple[str, str]] = [("", "—")]
        for item in items:
            self.by_value[f"item:{item.pk}"] = item
            choices.append((f"item:{item.pk}", f"{item.code} {item.title[:60]}"))
        for veto in vetoes:
            self.by_value[f"veto:{veto.pk}"] = veto
            choices.append((f"veto:{veto.pk}", f"{_('veto')} {veto.code} {veto.condition[:60]}"))
        field = self.fields["subject"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def contested(self) -> tuple[Item | None, VetoItem | None]:
        chosen = self.by_value.get(self.cleaned_data.get("subject") or "")
        if isinstance(chosen, Item):
            return chosen, None
        return None, chosen

    def refuse(self, field: str | None, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)


def reviewer_label(user: User) -> str:
    """A reviewer as the house names people: full name, then where he assesses (division and
    department of each assessor role), never his login name alone."""
    places = [
        f"{r.division.name} · {r.department.name}" if r.department else r.division.name
        for r in user.roles.all()
        if r.role == Role.ASSESSOR
    ]
    name = user.full_name or user.username
    return f"{name} · {'、'.join(places)}" if places else name


class AssignForm(forms.Form):
    """The lead's choice of reviewer among those the service would take."""

    reviewer = forms.ChoiceField(
        label=_("reviewer"),
        error_messages={
            "invalid_choice": _("Choose a reviewer from the list."),
            "required": _("Choose the reviewer."),
        },
    )

    def __init__(self, *args: Any, candidates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {u.username: u for u in candidates}
        field = self.fields["reviewer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [(u.username, reviewer_label(u)) for u in candidates]

    def chosen(self) -> User | None:
        return self.people.get(self.cleaned_data.get("reviewer") or "")


class DecisionForm(forms.Form):
    """The reviewer's decision: uphold, or change (the item's new points, or not applicable),
    and why; a document optional."""

    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[
            ("uphold", _("uphold: the result stands")),
            ("change", _("change it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Uphold the result or change it.")},
    )
    points = StrictDecimalField(
        label=_("new points"),
        places=1,
        max_digits=6,
        min_value=None,
        exact=True,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    not_applicable = TickField(label=_("not applicable"))
    reason = forms.CharField(
        label=_("reason for the decision"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why the result stands or changes.")},
    )
    file = forms.FileField(label=_("a document (optional)"), required=False)

    def __init__(self, *args: Any, veto: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if veto:  # a veto finding is upheld or overturned: there are no points to give
            del self.fields["points"]
            del self.fields["not_applicable"]
            field = self.fields["decision"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [
                ("uphold", _("uphold: the finding stands")),
                ("change", _("overturn the finding")),
            ]

    def refuse(self, field: str | None, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)
