"""What a person is told: one inbox entry per person and event; channels (email, webhook) and the
daily digest are built on it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    RETURNED = "returned", _("Self-assessment returned")
    TASK_DUE = "task_due", _("Task due soon")
    TASK_OVERDUE = "task_overdue", _("Task overdue")
    ROUND_OPENED = "round_opened", _("Round opened")
    SCORES_NEEDED = "scores_needed", _("Scores needed")
    RECTIFICATION_DUE = "rectification_due", _("Rectification due")
    RECTIFICATION_OVERDUE = "rectification_overdue", _("Rectification overdue")
    APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
    ESCALATED = "escalated", _("Escalated to you")


class Notification(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    # What happened, in the recipient's language at the time it was written.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    # A path inside the application (never an outside address).
    link = models.CharField(max_length=300, blank=True)
    # The same key for the same person is one notification: a periodic job that runs twice, or a
    # service retried, tells nobody twice.
    key = models.CharField(max_length=200)
    scope_path = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="one_notification_per_key")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notif_unread_idx")]

    def __str__(self) -> str:
        return self.title


class EscalationLevel(models.IntegerChoices):
    """How far an overdue task or rectification has gone (ADR 26): its owner first, then the
    office above the owner's unit (a community's town), then the office above that (the
    county)."""

    OWNER = 0, _("its owner")
    HEAD = 1, _("the office above")
    ABOVE = 2, _("the office above that")


class Escalation(models.Model):
    """One step taken for one overdue object: whom it went to and when. One row per object and
    level, so a job that runs again takes no step twice; what the object is, is named by its
    type and public id, because the objects live in apps above this one (ADR 19)."""

    object_type = models.CharField(max_length=32)
    object_id = models.UUIDField()
    level = models.PositiveSmallIntegerField(choices=EscalationLevel.choices)
    # The division whose officers were told; empty for the owner's step.
    office = models.ForeignKey(
        "divisions.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    due_on = models.DateField()
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="escalations_received"
    )
    scope_path = models.CharField(max_length=255)

    class Meta:
        ordering = ["object_type", "object_id", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "level"], name="one_escalation_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} → {self.get_level_display()}"
