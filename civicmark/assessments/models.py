"""Department scores and veto findings, per acceptance round."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core.models import StoredFileRecord
from civicmark.standards.models import Item, VetoItem, points_field


class SelfScore(models.Model):
    """The community's own score of an item, with a short explanation."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="self_scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    points = points_field(_("points"))
    explanation = models.TextField(_("explanation"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "item"], name="one_self_score")
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.points}"


class Evidence(StoredFileRecord):
    """A document the community offers as proof; one document may serve several items.

    Evidence is never replaced: a corrected document is a new row that `supersedes` the one
    before it, which stays stored and downloadable, so what a signed-off round judged can always
    be shown as it was judged."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="evidence")
    items = models.ManyToManyField(Item, related_name="+")
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("new version of"),
    )


class Transition(models.Model):
    """One step of an enrollment through the workflow: who, when, from, to, why."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=24)
    to_status = models.CharField(max_length=24)
    actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Rectified")


def overdue_rectifications_q(today: dt.date) -> models.Q:
    """The one rule for an overdue rectification, whichever round found it: still open and its
    due date past. The to-do, the key figures, the list's town counts and its cards all ask this
    (or `Rectification.is_overdue`, its twin for one row in hand)."""
    return models.Q(status=RectificationStatus.OPEN, due_on__lt=today)


class Rectification(models.Model):
    """What a finalised round found wanting: an item that lost points, or a veto finding."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        AcceptanceRound, on_delete=models.CASCADE, related_name="rectifications"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="rectifications"
    )
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    veto = models.ForeignKey(
        VetoItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Two decimals, as every computed value (ADR 17): one decimal rounded 1.75 to 1.8 and 1.25
    # to 1.2 (half even) where the result page shows 1.75 and 1.25.
    points_lost = models.DecimalField(
        _("points lost"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"))
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
    )
    note = models.TextField(_("what was done"), blank=True)

    class Meta:
        ordering = ["enrollment__community__path", "item__order"]

    def __str__(self) -> str:
        return f"{self.enrollment.community} {self.item.code if self.item else self.veto}"

    def is_overdue(self, today: dt.date) -> bool:
        """`overdue_rectifications_q` for one row."""
        return (
            self.status == RectificationStatus.OPEN
            and self.due_on is not None
            and self.due_on < today
        )


class RectificationEvidence(StoredFileRecord):
    """A document that shows a rectification was done: a photo, minutes, a new register."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="evidence"
    )


class ReturnComment(models.Model):
    """When the town or county returns a self-assessment, what must change on each item."""

    transition = models.ForeignKey(Transition, on_delete=models.CASCADE, related_name="comments")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"))

    class Meta:
        ordering = ["item__order"]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.comment[:40]}"
