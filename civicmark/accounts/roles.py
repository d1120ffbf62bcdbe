from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.divisions.models import Level


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("Municipal office administrator")
    COUNTY_OFFICER = "county_officer", _("County officer")
    TOWN_OFFICER = "town_officer", _("Town officer")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    ASSESSOR = "assessor", _("Department assessor")
    VIEWER = "viewer", _("Leading-group member (read only)")


# The level of the division each role is bound to; None: any level.
ROLE_LEVEL: dict[str, str | None] = {
    Role.CITY_ADMIN: Level.CITY,
    Role.COUNTY_OFFICER: Level.COUNTY,
    Role.TOWN_OFFICER: Level.TOWN,
    Role.COMMUNITY_STAFF: Level.COMMUNITY,
    Role.ASSESSOR: None,
    Role.VIEWER: None,
}

# Roles that administer their subtree: they change divisions, groups and people under it.
MANAGER_ROLES = {Role.CITY_ADMIN, Role.COUNTY_OFFICER, Role.TOWN_OFFICER}

# Which roles a manager may hand out or take back: only roles strictly below his own, and only
# within his own subtree (authz.grant_refusal applies the whole rule). Nobody here hands out a
# city administrator: only a superuser (or the server operator) appoints one, so no office can
# make a peer who would then outrank it.
GRANTABLE: dict[str, frozenset[str]] = {
    Role.CITY_ADMIN: frozenset(
        {Role.COUNTY_OFFICER, Role.TOWN_OFFICER, Role.COMMUNITY_STAFF, Role.ASSESSOR, Role.VIEWER}
    ),
    Role.COUNTY_OFFICER: frozenset(
        {Role.TOWN_OFFICER, Role.COMMUNITY_STAFF, Role.ASSESSOR, Role.VIEWER}
    ),
    Role.TOWN_OFFICER: frozenset({Role.COMMUNITY_STAFF, Role.VIEWER}),
}

# The roles whose work is what a community is judged on: whoever holds one of them over a
# community (its staff, the officer of its town) never judges it from another seat.
LOCAL_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.TOWN_OFFICER})
