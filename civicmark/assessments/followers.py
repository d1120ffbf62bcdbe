"""Tasks that follow the work: a task the plan ties to a step of the work (`Task.follows`, set
from `campaigns.plan.FOLLOWS`) is done exactly while that work is done.

- SUBMISSION (a community's self-assessment task): done once the community has submitted its
  self-assessment and while it stays past that point (reviewed, pre-accepted, reported, judged);
  open again when the town or county returns it, since the work is then to do again.
- COUNTY_ROUND (the county's task to pre-accept and report upward): done while a county round of
  the campaign is finalised for that county (the whole round, or the county's part of a round
  split by county, ADR 12); open again when it is reopened.

Stored, not derived when read: every page, count and dashboard reads a task's status with one
filter (`status`, `selectors.overdue_q`), so "overdue" stays "not done and past its date" with no
second rule. It cannot drift because nothing else writes these tasks' status: the services that
move the work call `follow_*` in their own transaction, each change is audited, and
`campaigns.services.task_update` refuses to tick them by hand. Migration 0010 of campaigns brought
the campaigns that existed before in line once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from civicmark.campaigns import parts
from civicmark.campaigns.models import (
    AcceptanceRound,
    Campaign,
    Enrollment,
    Task,
    TaskFollows,
    TaskStatus,
)
from civicmark.core import audit
from civicmark.divisions.models import Level

# The workflow states in which a community's self-assessment stands submitted (every state but
# the three before submission: enrolled, self-assessing, returned).
SUBMITTED_STATES = frozenset(
    {
        "submitted",
        "town_reviewed",
        "county_pre_accepted",
        "reported",
        "standard_unit",
        "not_reached",
        "vetoed",
        "rectifying",
        "proposed",
        "commended",
        "title_withdrawn",
    }
)


def follow_submissions(
    *, actor: Any, campaign: Campaign, enrollments: Iterable[Enrollment], status: str, via: str
) -> int:
    """The communities moved to `status`: their self-assessment tasks follow (one query to find
    the tasks whose status must change, one to change them). Returns how many changed."""
    ids = [e.community_id for e in enrollments]
    return _follow(
        actor=actor,
        tasks=Task.objects.filter(
            campaign=campaign, follows=TaskFollows.SUBMISSION, division_id__in=ids
        ),
        done=lambda task: status in SUBMITTED_STATES,
        why=status,
        via=via,
    )


def follow_county_round(*, actor: Any, round_: AcceptanceRound, via: str) -> int:
    """A county round (or a county's part of it) was finalised or reopened: each county's task
    follows whether a county round of the campaign is now finalised for that county."""
    if round_.level != Level.COUNTY:
        return 0
    county_rounds = list(
        AcceptanceRound.objects.filter(campaign=round_.campaign_id, level=Level.COUNTY)
        .select_related("campaign__division")
        .order_by("number")
    )

    def sealed_for(task: Task) -> bool:
        return any(parts.part_sealed(r, task.division.path) for r in county_rounds)

    return _follow(
        actor=actor,
        tasks=Task.objects.filter(campaign=round_.campaign, follows=TaskFollows.COUNTY_ROUND),
        done=sealed_for,
        why=f"round {round_.number}",
        via=via,
    )


def _follow(*, actor: Any, tasks: Any, done: Any, why: str, via: str) -> int:
    now = timezone.now()
    changed = []
    for task in tasks.select_for_update().select_related("division"):
        reached = bool(done(task))
        if reached == (task.status == TaskStatus.DONE):
            continue
        before = task.status
        task.status = TaskStatus.DONE if reached else TaskStatus.OPEN
        task.done_at = now if reached else None
        changed.append((task, before))
    if not changed:
        return 0
    Task.objects.bulk_update([t for t, _b in changed], ["status", "done_at"], batch_size=1000)
    audit.record_many(
        [
            audit.Event(
                actor=actor,
                via=via,
                action="task.followed_work",
                object_type="task",
                object_ref=str(task.public_id),
                scope_path=task.division.path,
                summary=task.title,
                before={"status": before},
                after={"status": task.status, "follows": task.follows, "because": why},
            )
            for task, before in changed
        ]
    )
    return len(changed)
