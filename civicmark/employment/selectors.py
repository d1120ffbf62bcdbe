"""Reads of the ledger that check access: only those who keep it (authz.ledger_scope)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from civicmark.accounts import authz
from civicmark.employment.models import Household, Resident


def residents_for_user(user: Any) -> QuerySet[Resident]:
    qs = Resident.objects.select_related("household__community")
    return qs.filter(authz.ledger_scope(user, "household__community__path"))


def households_for_user(user: Any) -> QuerySet[Household]:
    return Household.objects.select_related("community").filter(
        authz.ledger_scope(user, "community__path")
    )
