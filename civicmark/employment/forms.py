"""The job bank's forms: what the station types is read here and shown back, with the error
beside its field, whenever a post or an employer is refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicmark.core.formfields import StrictDateField, StrictDecimalField, StrictIntegerField
from civicmark.employment.models import Hours


class EmployerForm(forms.Form):
    name = forms.CharField(label=_("registered name"), max_length=100)
    credit_code = forms.CharField(
        label=_("unified social credit code"),
        max_length=18,
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )


class VacancyForm(forms.Form):
    employer = forms.ChoiceField(label=_("employer"))
    title = forms.CharField(label=_("post"), max_length=80)
    category = forms.CharField(label=_("category"), max_length=40)
    hours = forms.ChoiceField(label=_("hours"), choices=Hours.choices)
    wage_min = StrictIntegerField(
        label=_("monthly wage from (yuan)"),
        max_value=2147483647,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    wage_max = StrictIntegerField(
        label=_("monthly wage to (yuan)"),
        max_value=2147483647,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    # The column holds 9999.9 km at most (max_digits=5, one place); empty is the community itself.
    distance_km = StrictDecimalField(
        label=_("distance (km)"),
        places=1,
        max_digits=5,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args: Any, employers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.employers = employers
        choice = self.fields["employer"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(str(e.public_id), e.name) for e in employers]

    def clean_category(self) -> str:
        return str(self.cleaned_data["category"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("wage_min"), data.get("wage_max")
        if low is not None and high is not None and high < low:
            self.add_error("wage_max", _("The highest wage is below the lowest."))
        return data

    def chosen_employer(self) -> Any:
        return self.employers.get(public_id=self.cleaned_data["employer"])


class FairForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=100)
    held_on = StrictDateField(label=_("held on"))
