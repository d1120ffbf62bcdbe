"""The campaigns' jobs of the clock (core.periodic): tasks due soon, tasks overdue, the
overview's figures left behind."""

from __future__ import annotations

from datetime import datetime

from civicmark.campaigns import progress, reminders
from civicmark.core.periodic import periodic


@periodic("campaigns.tasks_due_soon")
def tasks_due_soon(now: datetime) -> int:
    return reminders.tasks_due_soon(now)


@periodic("campaigns.tasks_overdue")
def tasks_overdue(now: datetime) -> int:
    return len(reminders.tasks_overdue(now))


@periodic("campaigns.progress")
def refresh_behind_progress(now: datetime) -> list[str]:
    """Take again every campaign's overview figures that are behind (ADR 30): a write since they
    were taken whose page nobody opened, a new day, or a refresh that was lost. Idempotent: a
    snapshot that is current is left alone."""
    return progress.retake_behind(now)
