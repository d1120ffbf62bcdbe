"""Reads of standards that check access, built on the scope primitives of accounts.authz."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from civicmark.accounts import authz
from civicmark.standards.models import Standard


def standards_for_user(user: Any) -> QuerySet[Standard]:
    """A city's standards are read by everyone who works under that city."""
    return Standard.objects.select_related("division").filter(
        authz.within_or_above(user, "division__path")
    )
