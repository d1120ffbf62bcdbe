"""Starting a round's survey: what the office typed is read here and shown back, with the error
beside its field, when the survey is refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicmark.core.formfields import StrictDecimalField, StrictIntegerField, TickField
from civicmark.core.lookup import NamedChoiceField
from civicmark.core.names import is_plain
from civicmark.divisions.models import Level
from civicmark.surveys.models import Collector, Mode, SubstitutionReason


class SurveyForm(forms.Form):
    instrument = forms.ChoiceField(label=_("instrument"))
    sample_size = StrictIntegerField(
        label=_("households drawn"),
        initial=55,
        max_value=500,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    reserve_size = StrictIntegerField(
        label=_("reserve households"),
        initial=20,
        max_value=500,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    method = forms.ChoiceField(
        label=_("method"),
        choices=[
            ("systematic", _("systematic, random start")),
            ("simple", _("simple random")),
        ],
    )
    refuse_community = TickField(
        label=_("refuse answers collected by the community itself"), required=False, initial=True
    )

    def __init__(self, *args: Any, instruments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instruments = instruments
        field = self.fields["instrument"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(i.public_id), str(i)) for i in instruments]

    def chosen_instrument(self) -> Any:
        return self.instruments.get(public_id=self.cleaned_data["instrument"])


class DrawForm(forms.Form):
    """Draw a community's households: the community by its name or code (the sampling frame's
    community, among those the campaign enrolled and the person sees)."""

    community = NamedChoiceField(kind="division", level=Level.COMMUNITY, label=_("community"))

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, NamedChoiceField)
        field.queryset = communities


class SubstitutionForm(forms.Form):
    drawn = StrictIntegerField(
        min_value=1,
        error_messages={"required": _("Choose a household of this draw.")},
    )
    reason = forms.ChoiceField(
        label=_("reason"),
        choices=SubstitutionReason.choices,
        error_messages={
            "required": _("Give the reason for the substitution."),
            "invalid_choice": _("Give the reason for the substitution."),
        },
    )


class AnswerPageForm(forms.Form):
    """The hidden parts of the public answer page: when it was opened (a signed stamp, read by
    the throttle) and the device's id for the entry (a re-sent entry is stored once)."""

    opened = forms.CharField(max_length=200, required=False)
    client_id = forms.UUIDField(required=False)


class EntryForm(forms.Form):
    """Door-to-door and paper entry: the code, how and by whom; the answers are read per
    question of the instrument (surveys.services checks each against its scale)."""

    code = forms.CharField(label=_("code / form number"), max_length=40)
    mode = forms.ChoiceField(
        label=_("mode"), choices=[(Mode.TABLET, Mode.TABLET.label), (Mode.PAPER, Mode.PAPER.label)]
    )
    collector = forms.ChoiceField(
        label=_("collected by"),
        choices=[c for c in Collector.choices if c[0] != Collector.RESIDENT],
        error_messages={
            "required": _("Say who collected the answers."),
            "invalid_choice": _("Say who collected the answers."),
        },
    )
    settle = forms.ChoiceField(choices=[("", ""), ("yes", "yes")], required=False)
    client_id = forms.UUIDField(required=False)

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip().upper()


class PointsForm(forms.Form):
    """An assessor confirms the computed points of a survey item or gives others, with a
    reason; `version` is the version of his score the page showed (a change since is a
    conflict)."""

    item = forms.CharField(max_length=40, error_messages={"required": _("Choose an item.")})
    points = StrictDecimalField(
        label=_("points"), places=1, max_digits=5, exact=True, required=False
    )
    reason = forms.CharField(label=_("reason"), max_length=300, required=False)
    version = StrictIntegerField(min_value=0, required=False)

    def __init__(self, *args: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items

    def clean_item(self) -> Any:
        code = str(self.cleaned_data["item"]).strip()
        item = self.items.filter(code=code).first() if is_plain(code) else None
        if item is None:
            raise forms.ValidationError(_("Choose an item."), code="invalid_choice")
        return item
