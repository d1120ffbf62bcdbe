"""The administrative tree (city > county > town > community), profiles, departments, groups."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("City")
    COUNTY = "county", _("County (district)")
    TOWN = "town", _("Town (street)")
    COMMUNITY = "community", _("Community")


LEVEL_ORDER = [Level.CITY, Level.COUNTY, Level.TOWN, Level.COMMUNITY]
# The parent level each level must hang under; a city is a root.
PARENT_LEVEL = {
    Level.CITY: None,
    Level.COUNTY: Level.CITY,
    Level.TOWN: Level.COUNTY,
    Level.COMMUNITY: Level.TOWN,
}


class LevelLabel(models.Model):
    """What a province calls each level ("district", "subdistrict"...): data, not code."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64)

    class Meta:
        verbose_name = _("level name")
        verbose_name_plural = _("level names")

    def __str__(self) -> str:
        return self.label()

    def label(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


def level_names() -> dict[str, str]:
    """The level names in the current language, as the data says (one query)."""
    names = {level.value: str(level.label) for level in Level}
    names.update({label.level: label.label() for label in LevelLabel.objects.all()})
    return names


class Division(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/<city code>/<county code>/.../<own code>/": everything under a division is one indexed
    # prefix match, which is also how the authorization layer scopes every query.
    path = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")

    def __str__(self) -> str:
        return self.name

    def depth(self) -> int:
        return LEVEL_ORDER.index(Level(self.level))

    def is_within(self, other: Division) -> bool:
        return self.path.startswith(other.path)


class CommunityProfile(models.Model):
    division = models.OneToOneField(
        Division, on_delete=models.CASCADE, related_name="profile", verbose_name=_("community")
    )
    committee = models.CharField(_("neighbourhood committee"), max_length=100, blank=True)
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    residents = models.PositiveIntegerField(_("residents"), null=True, blank=True)
    area_km2 = models.DecimalField(
        _("area (km²)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    floor_space_m2 = models.DecimalField(
        _("office and service floor space (m²)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
    )
    staff = models.PositiveIntegerField(_("staff"), null=True, blank=True)
    is_pilot = models.BooleanField(_("pilot community"), default=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("community profile")
        verbose_name_plural = _("community profiles")

    def __str__(self) -> str:
        return str(self.division)


class Department(models.Model):
    """A member unit of the leading group, belonging to the government of one division."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="departments", verbose_name=_("division")
    )

    class Meta:
        ordering = ["division__path", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class WorkingGroup(models.Model):
    """The plan's step 1: the working group a county or town forms to run the campaign."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="working_groups",
        verbose_name=_("division"),
    )
    purpose = models.TextField(_("purpose"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["division__path", "name"]
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="unique_group_name")
        ]

    def __str__(self) -> str:
        return self.name


class WorkingGroupMember(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("name"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_memberships",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_leader = models.BooleanField(_("leader"), default=False)
    duty = models.CharField(_("duty"), max_length=255, blank=True)

    class Meta:
        ordering = ["-is_leader", "id"]
        verbose_name = _("group member")
        verbose_name_plural = _("group members")

    def __str__(self) -> str:
        return self.name
