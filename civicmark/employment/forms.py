"""The job bank's forms: what the station types is read here and shown back, with the error
beside its field, whenever a post or an employer is refused."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.utils.timezone import localdate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicmark.core.formfields import (
    StrictDateField,
    StrictDecimalField,
    StrictIntegerField,
    TickField,
)
from civicmark.core.lookup import NamedChoiceField, NameSearchInput
from civicmark.employment.models import Hours, ReferralState, ServiceKind, Status


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


# --- The ledger and a resident's page ---------------------------------------------------------


def coded(queryset: Any, *, name: str = "name") -> Any:
    """Households and residents have no code of their own: their public id stands in for it, so
    that a name-or-code box (core.lookup) can take "address (id)" or "name (id)" from a
    suggestion, or the plain address or name when only one has it."""
    from django.db.models import CharField, F
    from django.db.models.functions import Cast

    annotations: dict[str, Any] = {"code": Cast("public_id", output_field=CharField())}
    if name != "name":
        annotations["name"] = F(name)
    return queryset.annotate(**annotations)


class PublicIdChoiceField(NamedChoiceField):
    """A household or resident by its address or name, or by its public id (what a suggestion
    or an older page sends), alone or as "name (id)": the id is read as a UUID, whatever the
    database's text form of it."""

    def to_python(self, value: Any) -> Any:
        text = " ".join(str(value or "").split())
        match = re.match(r"^(?:.*?)\s*[(（]?\s*([0-9A-Fa-f-]{32,36})\s*[)）]?$", text)
        if match:
            try:
                public_id = uuid.UUID(match[1])
            except ValueError:
                public_id = None
            assert self.queryset is not None
            found = self.queryset.filter(public_id=public_id).first() if public_id else None
            if found is not None:
                return found
        return super().to_python(value)


def _resident_shown(resident: Any) -> str:
    return f"{resident.masked_id} · {resident.household.address}"


class ActionForm(forms.Form):
    """Which of a page's forms was sent: one of the page's buttons, or a clear refusal."""

    action = forms.ChoiceField(
        error_messages={"invalid_choice": _("Unknown action."), "required": _("Unknown action.")}
    )

    def __init__(
        self, data: Any = None, *, actions: list[str], default: str = "", **kwargs: Any
    ) -> None:
        if data is not None and default and "action" not in data:
            # The page's main form was sent before it named itself (older pages, scripts).
            data = {"action": default}
        super().__init__(data, **kwargs)
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(a, a) for a in actions]

    def chosen(self) -> str | None:
        return str(self.cleaned_data["action"]) if self.is_valid() else None


class HouseholdForm(forms.Form):
    address = forms.CharField(label=_("address (estate, building, door)"), max_length=120)


class ResidentForm(forms.Form):
    household = PublicIdChoiceField(
        kind="household",
        label=_("household"),
        url_name="employment_names",
        describe=lambda h: h.name,
        help_text=_("Type the address; suggestions appear as you type."),
    )
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        help_text=_("Stored encrypted; birth date and sex are read from it."),
        widget=forms.TextInput(attrs={"class": "font-monospace", "autocomplete": "off"}),
    )
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    able_to_work = TickField(label=_("able to work"), required=False, initial=True)
    disability = TickField(label=_("disability certificate"), required=False)
    subsistence = TickField(label=_("subsistence allowance"), required=False)

    def __init__(
        self, *args: Any, households: Any, within: str, sensitive: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["household"]
        assert isinstance(field, NamedChoiceField)
        field.queryset = coded(households, name="address")
        widget = field.widget
        assert isinstance(widget, NameSearchInput)
        widget.within = within
        if not sensitive:  # the flags are asked only of those allowed to see them
            del self.fields["disability"], self.fields["subsistence"]


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("why you need the full number"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("why you need the full number"),
                "aria-label": _("reason"),
            }
        ),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("new status"), choices=Status.choices)
    start = StrictDateField(
        label=_("from"), initial=localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = StrictDateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    registration_no = forms.CharField(label=_("registration number"), max_length=40, required=False)
    registration_date = StrictDateField(
        label=_("registered on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    employer = forms.CharField(label=_("employer"), max_length=100, required=False)


class ReferForm(forms.Form):
    vacancy = forms.UUIDField(
        label=_("post"),
        error_messages={"invalid": _("Choose a post."), "required": _("Choose a post.")},
    )


class MoveForm(forms.Form):
    referral = forms.UUIDField(
        error_messages={
            "invalid": _("That referral is not this person's."),
            "required": _("That referral is not this person's."),
        }
    )
    to = forms.ChoiceField(label=_("next step"), choices=ReferralState.choices)
    day = StrictDateField(label=_("date"), required=False)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class ConsentForm(forms.Form):
    given = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")])


class FollowUpForm(forms.Form):
    follow_up = StrictIntegerField(
        min_value=1,
        error_messages={"required": _("That follow-up is not this person's.")},
    )
    day = StrictDateField(label=_("date"), required=False)
    still_employed = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")])


class ServiceForm(forms.Form):
    kind = forms.ChoiceField(label=_("service"), choices=ServiceKind.choices)
    on = StrictDateField(
        label=_("date"),
        required=False,
        initial=localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class VacancyDecisionForm(forms.Form):
    """Approve, reject or extend a post: which post, and the reason for a rejection."""

    vacancy = forms.UUIDField(
        error_messages={
            "invalid": _("That post is not in this community."),
            "required": _("That post is not in this community."),
        }
    )
    note = forms.CharField(label=_("reason"), max_length=200, required=False)


# --- A job fair -------------------------------------------------------------------------------


class FairEmployerForm(forms.Form):
    employer = forms.ChoiceField(label=_("employer"))
    posts = StrictIntegerField(
        label=_("posts offered"),
        min_value=1,
        max_value=32_767,
        initial=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, employers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.employers = employers
        field = self.fields["employer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(e.public_id), e.name) for e in employers]
        field.error_messages["invalid_choice"] = _("Choose a verified employer.")

    def chosen_employer(self) -> Any:
        return self.employers.get(public_id=self.cleaned_data["employer"])


class CheckInForm(forms.Form):
    resident = PublicIdChoiceField(
        kind="resident",
        label=_("resident"),
        url_name="employment_names",
        describe=_resident_shown,
        help_text=_("Type the person's name; suggestions appear as you type."),
    )

    def __init__(self, *args: Any, residents: Any, within: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resident"]
        assert isinstance(field, NamedChoiceField)
        field.queryset = coded(residents)
        widget = field.widget
        assert isinstance(widget, NameSearchInput)
        widget.within = within
