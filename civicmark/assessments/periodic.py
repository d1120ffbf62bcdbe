"""The acceptance work's jobs of the clock (core.periodic): rectifications due soon and overdue,
rounds that open (and the scores they need)."""

from __future__ import annotations

from datetime import datetime

from civicmark.assessments import reminders
from civicmark.core.periodic import periodic


@periodic("assessments.rectifications_due_soon")
def rectifications_due_soon(now: datetime) -> int:
    return reminders.rectifications_due_soon(now)


@periodic("assessments.rectifications_overdue")
def rectifications_overdue(now: datetime) -> int:
    return len(reminders.rectifications_overdue(now))


@periodic("assessments.rounds_opened")
def rounds_opened(now: datetime) -> int:
    return reminders.rounds_opened(now)
