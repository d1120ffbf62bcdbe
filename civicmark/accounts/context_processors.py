from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.divisions.models import level_names


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu each role sees: its own work, nothing it cannot open."""
    user = request.user
    if not user.is_authenticated:
        return {"nav": [], "level_names": {}, "read_only": False}
    roles = authz.roles_of(user)
    items = [(_("My work"), reverse("home"))]
    if authz.is_super(user) or roles:
        items.append((_("Campaigns"), reverse("campaign_list")))
        items.append((_("Divisions"), reverse("division_list")))
        items.append((_("Departments"), reverse("department_list")))
        items.append((_("Standards"), reverse("standard_list")))
    if authz.is_super(user) or roles & {
        Role.CITY_ADMIN,
        Role.COUNTY_OFFICER,
        Role.TOWN_OFFICER,
        Role.VIEWER,
    }:
        items.append((_("Working groups"), reverse("group_list")))
    if authz.is_super(user) or authz.ledger_paths(user):
        items.append((_("Employment"), reverse("employment_home")))
    if authz.can_manage_people(user):
        items.append((_("People"), reverse("person_list")))
        items.append((_("Audit log"), reverse("audit_list")))
    return {"nav": items, "level_names": level_names(), "read_only": authz.is_read_only(user)}
