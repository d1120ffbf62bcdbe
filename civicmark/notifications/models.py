"""What a person is told: one inbox entry per person and event; channels (email, webhook) and the
daily digest are built on it."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
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


class Frequency(models.TextChoices):
    OFF = "off", _("Off")
    IMMEDIATE = "immediate", _("At once")
    DIGEST = "digest", _("In a daily digest")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("SMS / WeChat Work gateway")


# A Chinese mobile number: 11 digits starting 13-19, written with or without +86 and spaces.
MOBILE_RE = r"^1[3-9]\d{9}$"


class Preference(models.Model):
    """How a person wants to be told beyond the inbox, which is always on. A person without a row
    has the defaults (`Preference.defaults`): no row is written until he saves his choices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.CharField(
        _("email"), max_length=16, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    webhook = models.CharField(
        _("SMS / WeChat Work"), max_length=16, choices=Frequency.choices, default=Frequency.DIGEST
    )
    # The gateway relays to this number (SMS) or finds the person by it (WeChat Work).
    mobile = models.CharField(
        _("mobile number"),
        max_length=11,
        blank=True,
        validators=[
            RegexValidator(MOBILE_RE, _("Write an 11-digit mobile number, as 13800138000."))
        ],
    )
    # The language his messages are written in (the pages follow the browser's choice).
    language = models.CharField(
        _("language of messages"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def defaults(cls, user: Any) -> Preference:
        """What a person who never chose has: the model's defaults, unsaved."""
        return cls(user=user)

    def frequency(self, channel: str) -> str:
        return str(self.email if channel == Channel.EMAIL else self.webhook)


class Delivery(models.Model):
    """One message sent on one channel: a notification at once, or a day's digest of several.
    `public_id` is the delivery id the webhook sends (X-CivicMark-Delivery), by which a gateway
    drops a retry of a message it already relayed; a delivery that succeeded is never sent again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Given up")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # "n:<notification id>" for one sent at once, "digest:<date>" for a day's digest: the same key
    # twice for one person and channel is one delivery (a job run twice sends nothing twice).
    key = models.CharField(max_length=64)
    notifications = models.ManyToManyField(Notification, related_name="deliveries")
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "key"], name="one_delivery_per_key"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.recipient} · {self.subject}"


class DeliveryAttempt(models.Model):
    """Each try of a delivery, as the operator reads the log: when, the answer (an HTTP status or
    the error), and when the next try is due (empty: sent, or given up)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    ok = models.BooleanField(_("succeeded"), default=False)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


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
