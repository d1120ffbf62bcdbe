from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.roles import Role


class User(AbstractUser):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    # Where the person lives or works: an assessor may not score it (conflict of interest).
    home_division = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("lives or works in"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleAssignment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    division = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("division"),
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    department = models.ForeignKey(
        "divisions.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessors",
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "division"],
                condition=models.Q(department__isnull=True),
                name="unique_role_without_department",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "division", "department"],
                name="unique_role_with_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.division}"


class TokenScope(models.TextChoices):
    READ = "read", _("read only")
    WRITE = "write", _("read and write")


class AccessToken(models.Model):
    """A personal access token for the JSON API (ADR 24): the person's own credential, acting
    with his grants as they stand at each request. Only a SHA-256 digest of the secret is kept;
    `prefix` finds the row, the digest proves the secret."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.READ
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Whether the session that made it had passed its second factor: a token made before its
    # person held a privileged role does not carry that role's reach (tokens._refusal).
    second_factor = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_live(self, now: Any) -> bool:
        return self.revoked_at is None and self.expires_at > now

    @property
    def last_day(self) -> dt.date:
        """The day chosen on the form: the last it works (it expires as the next one starts, so
        its `expires_at` read as a date showed the day after the one the person picked)."""
        return timezone.localtime(self.expires_at - dt.timedelta(microseconds=1)).date()
