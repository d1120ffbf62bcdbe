"""A standard: Annex 1 (basic requirements) and Annex 2 (the scoring table), versioned.

A published version never changes: editing it starts a new draft version, and a campaign pins
the version it started with.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.divisions.models import Department, Division


def points_field(label: Any, **kwargs: Any) -> models.DecimalField:
    """Points with one decimal: tables score in steps of 0.5."""
    return models.DecimalField(label, max_digits=6, decimal_places=1, **kwargs)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class CheckMethod(models.TextChoices):
    DOCUMENTS = "documents", _("Documents")
    SITE_VISIT = "site_visit", _("Site visit")
    SURVEY = "survey", _("Resident survey")
    DATA = "data", _("Data")


class ItemKind(models.TextChoices):
    """How an item is scored (ADR 17)."""

    GRADED = "graded", _("Graded")
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
    PER_OCCURRENCE = "per_occurrence", _("Deduction per occurrence")
    BONUS = "bonus", _("Bonus")
    PENALTY = "penalty", _("Penalty")


class NaRule(models.TextChoices):
    """What an item that does not apply counts for."""

    EXCLUDE = "exclude", _("Left out of the denominator")
    FULL = "full", _("Counted as full marks")


class GateEffect(models.TextChoices):
    NONE = "", _("No gate")
    VETO = "veto", _("Vetoes the community")
    NO_COMMENDATION = "no_commendation", _("Bars commendation")
    CAP = "cap", _("Caps the level")


class VetoEffect(models.TextChoices):
    FAIL = "fail", _("Not a standard unit")
    CAP = "cap", _("Caps the level")


class Standard(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("slug"), max_length=80)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    total_points = points_field(_("total points"), default=100)
    pass_threshold = points_field(_("pass threshold"), default=80)
    # The grid graded items are scored on (0.5 by default; 0.1 and 1 are allowed).
    step = points_field(_("step"), default=Decimal("0.5"))
    # Bonus items add at most this much above the total (none when empty).
    bonus_cap = points_field(_("bonus cap"), null=True, blank=True)
    # The city whose leading group sets the standard; everyone under it reads it.
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="standards")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="unique_standard_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status != Status.DRAFT


class AwardLevel(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="levels")
    name = models.CharField(_("name"), max_length=64)
    min_score = points_field(_("minimum score"))
    # A band below the pass mark (不合格) is not passing: it names a community that failed.
    passing = models.BooleanField(_("passing"), default=True)

    class Meta:
        ordering = ["min_score"]

    def __str__(self) -> str:
        return f"{self.name} ≥ {self.min_score}"


class Requirement(models.Model):
    """One line of Annex 1, the basic standards, grouped by area."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="requirements")
    area = models.CharField(_("area"), max_length=100)
    text = models.TextField(_("requirement"))
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.area}: {self.text[:40]}"


class Category(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    points = points_field(_("points"))
    min_points = points_field(_("category minimum"), null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="unique_category_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Item(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="items")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=32)
    title = models.TextField(_("assessment content"))
    points = points_field(_("points"))
    method = models.TextField(_("scoring method"), blank=True)
    # The first known method among `check_words` (blank when none is known).
    check_method = models.CharField(
        _("how it is checked"), max_length=16, choices=CheckMethod.choices, blank=True
    )
    # The assessment method as the table writes it ("发放问卷、抽样电话回访"), and every known
    # method those words name, in order (CheckMethod values).
    check_words = models.TextField(_("assessment method"), blank=True)
    check_methods = models.JSONField(default=list, blank=True)
    # The first department listed scores the item; `other_departments` score it too.
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    other_departments = models.ManyToManyField(
        Department, blank=True, related_name="+", verbose_name=_("other departments")
    )
    evidence = models.TextField(_("evidence"), blank=True)
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ItemKind.choices, default=ItemKind.GRADED
    )
    # The item's own grid (the standard's step when empty).
    step = points_field(_("step"), null=True, blank=True)
    # Per-occurrence items: points taken off each time, down to `floor`. Penalty items: the
    # lowest (negative) points they can give.
    per_occurrence = points_field(_("deduction per occurrence"), null=True, blank=True)
    floor = points_field(_("floor"), null=True, blank=True)
    na_rule = models.CharField(
        _("when not applicable"), max_length=8, choices=NaRule.choices, default=NaRule.EXCLUDE
    )
    # A gate: the item's value strictly below `gate_below` has `gate_effect` (with
    # `gate_level` for a cap), from the score itself.
    gate_below = models.DecimalField(
        _("gate threshold"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    gate_effect = models.CharField(
        _("gate effect"), max_length=16, choices=GateEffect.choices, blank=True, default=""
    )
    gate_level = models.CharField(_("gate level"), max_length=64, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="unique_item_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title[:40]}"


class VetoItem(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="vetoes")
    code = models.CharField(_("code"), max_length=32)
    condition = models.TextField(_("condition"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveIntegerField(default=0)
    effect = models.CharField(
        _("effect"), max_length=8, choices=VetoEffect.choices, default=VetoEffect.FAIL
    )
    cap_level = models.CharField(_("capped at level"), max_length=64, blank=True)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="unique_veto_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.condition[:40]}"
