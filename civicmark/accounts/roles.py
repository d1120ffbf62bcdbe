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

# Which roles a manager may hand out (always within his own subtree): never his own or above.
GRANTABLE: dict[str, set[str]] = {
    Role.CITY_ADMIN: {r.value for r in Role},
    Role.COUNTY_OFFICER: {Role.TOWN_OFFICER, Role.COMMUNITY_STAFF, Role.ASSESSOR, Role.VIEWER},
    Role.TOWN_OFFICER: {Role.COMMUNITY_STAFF, Role.VIEWER},
}
