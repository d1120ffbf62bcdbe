from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicmark.core.formfields import TickField, strict_formfield
from civicmark.core.lookup import NamedChoiceField, PersonChoiceField
from civicmark.core.uploads import limit_choices
from civicmark.divisions.models import CommunityProfile, Department


class ProfileForm(forms.ModelForm):
    class Meta:
        model = CommunityProfile
        # Counts and areas through the strict reader: no "NaN", no 10^23 households.
        formfield_callback = strict_formfield
        # An explicit allow-list: the community itself is never taken from the form.
        fields = [
            "committee",
            "households",
            "residents",
            "area_km2",
            "floor_space_m2",
            "staff",
            "is_pilot",
            "note",
        ]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


class DivisionForm(forms.Form):
    """Rename a division or move it under another parent (a city has none)."""

    name = forms.CharField(label=_("name"), max_length=100)
    parent = NamedChoiceField(kind="division", label=_("parent"))

    def __init__(self, *args: Any, parents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if parents is None:
            del self.fields["parent"]
        else:
            limit_choices(self, parent=parents)


class DepartmentForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=32)
    name = forms.CharField(label=_("name"), max_length=100)
    division = NamedChoiceField(kind="division", label=_("division"))

    def __init__(
        self, *args: Any, divisions: Any, department: Department | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, division=divisions)
        if department is not None:
            self.fields["code"].disabled = True


class WorkingGroupForm(forms.Form):
    division = NamedChoiceField(kind="division", label=_("division"))
    name = forms.CharField(label=_("name"), max_length=100)
    purpose = forms.CharField(
        label=_("purpose"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, divisions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, division=divisions)


class MemberForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=64, required=False)
    user = PersonChoiceField(label=_("account"), required=False)
    department = NamedChoiceField(
        kind="department",
        label=_("department"),
        required=False,
    )
    duty = forms.CharField(label=_("duty"), max_length=255, required=False)
    is_leader = TickField(label=_("leader"), required=False)

    def __init__(self, *args: Any, users: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, user=users.filter(is_active=True).order_by("username"))
        limit_choices(self, department=departments)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name") and not data.get("user"):
            raise forms.ValidationError(_("Give a name or choose an account."))
        return data
