"""Starting a round's survey: what the office typed is read here and shown back, with the error
beside its field, when the survey is refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicmark.core.formfields import StrictIntegerField


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
    refuse_community = forms.BooleanField(
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
