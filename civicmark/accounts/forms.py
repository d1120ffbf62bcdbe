from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import TokenScope
from civicmark.accounts.roles import Role
from civicmark.core.formfields import StrictDateField, TickField
from civicmark.core.lookup import NamedChoiceField
from civicmark.core.uploads import limit_choices


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    division = NamedChoiceField(kind="division", label=_("division"))
    department = NamedChoiceField(
        kind="department",
        label=_("department"),
        required=False,
        help_text=_("Assessors only."),
    )

    def __init__(
        self, *args: Any, roles: set[str], divisions: Any, departments: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the roles the person may hand out (authz.grantable_roles): a posted role outside
        # them is an invalid choice; where he may grant it is the service's check.
        role_field = cast(forms.ChoiceField, self.fields["role"])
        role_field.choices = [(value, label) for value, label in Role.choices if value in roles]
        limit_choices(self, division=divisions)
        limit_choices(self, department=departments)


class PersonForm(RoleForm):
    username = forms.CharField(label=_("username"), max_length=150)
    full_name = forms.CharField(label=_("full name"), max_length=64)
    home_division = NamedChoiceField(
        kind="division",
        label=_("lives or works in"),
        required=False,
        help_text=_("Used to keep assessors away from their own community or town."),
    )
    field_order = ["username", "full_name", "role", "division", "department", "home_division"]

    def __init__(
        self, *args: Any, roles: set[str], divisions: Any, departments: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, roles=roles, divisions=divisions, departments=departments, **kwargs)
        limit_choices(self, home_division=divisions)


class PersonEditForm(forms.Form):
    full_name = forms.CharField(label=_("full name"), max_length=64)
    home_division = NamedChoiceField(
        kind="division",
        label=_("lives or works in"),
        required=False,
    )
    is_active = TickField(label=_("active"), required=False)

    def __init__(self, *args: Any, divisions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, home_division=divisions)


class TokenForm(forms.Form):
    """A personal access token: a name, a scope, an expiry (the limits are the service's)."""

    name = forms.CharField(
        label=_("name"),
        max_length=64,
        help_text=_("What uses it, such as “field tablet” or “county platform”."),
    )
    scope = forms.ChoiceField(label=_("scope"), choices=TokenScope.choices)
    expires_on = StrictDateField(label=_("expires on"))

    def __init__(self, *args: Any, may_write: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_write:
            scope = cast(forms.ChoiceField, self.fields["scope"])
            scope.choices = [(TokenScope.READ.value, TokenScope.READ.label)]
