"""The campaigns' jobs of the clock (core.periodic): tasks due soon, tasks overdue."""

from __future__ import annotations

from datetime import datetime

from civicmark.campaigns import reminders
from civicmark.core.periodic import periodic


@periodic("campaigns.tasks_due_soon")
def tasks_due_soon(now: datetime) -> int:
    return reminders.tasks_due_soon(now)


@periodic("campaigns.tasks_overdue")
def tasks_overdue(now: datetime) -> int:
    return len(reminders.tasks_overdue(now))
