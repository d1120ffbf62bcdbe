"""The demo's inboxes (issue 18): a few notifications and one escalation, through the same
jobs and engine as real use, idempotently.

- the open November round (3) needs scores: its panel's assessors with items to re-score at
  东关社区 (the `assessor` among them) are told, by the rounds job itself;
- 朝阳社区's self-assessment task, overdue since June, is escalated: its staff (`zhaoyang`), the
  officer of 东关街道 (`town2`) and the county (`county`) are told, and the task's page shows
  each step. Only this one task is escalated here, so that the demo's inboxes stay short;
- the appeals decided in `demo.appeals` have already told their communities' staff.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from civicmark.assessments import reminders as acceptance_reminders
from civicmark.campaigns import reminders as task_reminders
from civicmark.campaigns.models import Task, TaskFollows

CHAOYANG = "990121001003"


def load_notifications(now: datetime | None = None) -> None:
    from civicmark.demo.loader import CAMPAIGN

    now = now or timezone.now()
    acceptance_reminders.rounds_opened(now)
    task_reminders.tasks_overdue(
        now,
        among=Task.objects.filter(
            campaign__slug=CAMPAIGN,
            division__code=CHAOYANG,
            follows=TaskFollows.SUBMISSION,
        ),
    )
