"""The quality of the assessment itself (issue 17, ADR 20). For now assessor calibration: an
exercise the round's lead opens, in which every panel member scores the same reference (a
community, or a described set of evidence) on a separate sheet, never the round's real scores."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound
from civicmark.divisions.models import Division
from civicmark.standards.models import Item, points_field


class CalibrationExercise(models.Model):
    """One calibration exercise of a round: what is scored (a reference community, or evidence
    described in words), which items, and who sits on it (the round's panel when it opened, so
    that a later change of the panel does not change whose sheets the figures read)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        AcceptanceRound, on_delete=models.CASCADE, related_name="calibrations"
    )
    community = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reference community"),
    )
    evidence = models.TextField(_("evidence scored"), blank=True)
    items = models.ManyToManyField(Item, related_name="+", verbose_name=_("items"))
    members = models.ManyToManyField(User, related_name="calibrations", verbose_name=_("panel"))
    opened_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.community.name if self.community is not None else self.evidence[:60]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CalibrationScore(models.Model):
    """What one panel member gave one item of the exercise (and why, for a deduction)."""

    exercise = models.ForeignKey(
        CalibrationExercise, on_delete=models.CASCADE, related_name="scores"
    )
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    points = points_field(_("points"))
    reason = models.TextField(_("reason"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "assessor", "item"], name="one_calibration_score"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.points}"
