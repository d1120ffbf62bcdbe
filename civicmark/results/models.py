"""Certificates of a title, verifiable by anyone with the code, and long exports run off-request."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment

# Crockford's base32 without I, L, O, U: read aloud or typed from paper without confusion.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_code() -> str:
    """Ten characters, 50 random bits: not guessable by trying codes at the public page."""
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


class Certificate(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("verification code"), max_length=16, unique=True, default=new_code)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="certificates"
    )
    round = models.ForeignKey(AcceptanceRound, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("title"), max_length=64)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2)
    awarded_on = models.DateField(_("awarded on"))
    issued_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["enrollment__community__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_standing_certificate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.level}"

    @property
    def stands(self) -> bool:
        return self.revoked_at is None


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """A long export: the request that asks for it returns at once; a worker thread writes the
    file and its progress here; the person comes back for it when it is ready."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=32)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    round_number = models.PositiveSmallIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    message = models.TextField(blank=True)
    path = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"
