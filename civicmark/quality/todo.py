"""What waits for a person in quality. Appeals: the round's lead, the appeals filed and not
yet assigned; a reviewer, those assigned to him; the community's staff, its appeals decided in
the last fortnight. Calibration (the home page's to-do, ADR 18): a panel member's
unfinished sheets of open exercises; the round's lead, the open exercises and how many sheets
are complete. Two queries per campaign, whatever the number of exercises."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.campaigns.models import Campaign
from civicmark.core.todo import Line, Todo
from civicmark.quality.appeals import may_lead as may_lead_appeals
from civicmark.quality.calibration import may_lead
from civicmark.quality.models import Appeal, AppealStatus, CalibrationExercise


def _open(campaign: Campaign) -> Any:
    return (
        CalibrationExercise.objects.filter(round__campaign=campaign, closed_at=None)
        .select_related("round", "community")
        .annotate(n_items=Count("items", distinct=True))
    )


def _url(name: str, exercise: CalibrationExercise) -> str:
    round_ = exercise.round
    return reverse(name, args=[round_.campaign.slug, round_.number, exercise.public_id])


def todos_for(*, user: Any, campaign: Campaign, today: date) -> list[Todo]:
    if not getattr(user, "pk", None):
        return []
    found: list[Todo] = []
    sheets = list(
        _open(campaign)
        .filter(members__pk=user.pk)
        .annotate(mine=Count("scores", filter=Q(scores__assessor_id=user.pk), distinct=True))
    )
    unfinished = [e for e in sheets if e.mine < e.n_items]
    if unfinished:
        found.append(
            Todo(
                key="calibration_sheet",
                title=_("Calibration sheets to score"),
                count=len(unfinished),
                url=_url("calibration_sheet", unfinished[0]),
                lines=tuple(
                    Line(
                        str(e),
                        url=_url("calibration_sheet", e),
                        note=_("%(done)d of %(total)d items scored")
                        % {"done": e.mine, "total": e.n_items},
                    )
                    for e in unfinished
                ),
            )
        )
    led = [e for e in _open(campaign) if may_lead(user, e.round)]
    if led:
        found.append(
            Todo(
                key="calibration_open",
                title=_("Calibration exercises open"),
                count=len(led),
                url=_url("calibration_detail", led[0]),
                detail=_("Read the panel's agreement, then close the exercise."),
                lines=tuple(Line(str(e), url=_url("calibration_detail", e)) for e in led),
            )
        )
    return found + _appeal_todos(user, campaign, today)


# A decided appeal stays on its community's to-do for a fortnight: long enough to be read.
DECIDED_SHOWN_DAYS = 14


def _appeal_url(name: str, appeal: Appeal) -> str:
    round_ = appeal.round
    return reverse(name, args=[round_.campaign.slug, round_.number, appeal.public_id])


def _appeal_lines(found: list[Appeal], note: Any = None) -> tuple[Line, ...]:
    return tuple(
        Line(str(a), url=_appeal_url("appeal_detail", a), note=note(a) if note else "")
        for a in found
    )


def _appeal_todos(user: Any, campaign: Campaign, today: date) -> list[Todo]:
    """The lead's appeals to assign, the reviewer's to decide, the community's decided ones."""
    found: list[Todo] = []
    appeals = Appeal.objects.filter(round__campaign=campaign).select_related(
        "round__campaign", "enrollment__community", "item", "veto"
    )
    filed = [
        a for a in appeals.filter(status=AppealStatus.FILED) if may_lead_appeals(user, a.round)
    ]
    if filed:
        found.append(
            Todo(
                key="appeals_to_assign",
                title=_("Appeals to assign to a reviewer"),
                count=len(filed),
                url=reverse("appeal_round", args=[campaign.slug, filed[0].round.number]),
                lines=_appeal_lines(filed),
            )
        )
    mine = list(appeals.filter(status=AppealStatus.ASSIGNED, reviewer_id=user.pk))
    if mine:
        found.append(
            Todo(
                key="appeals_to_decide",
                title=_("Appeals to decide"),
                count=len(mine),
                url=_appeal_url("appeal_detail", mine[0]),
                detail=_("Uphold the result or change it, with a reason."),
                lines=_appeal_lines(mine),
            )
        )
    staff_of = [g.path for g in authz.grants(user) if g.role == Role.COMMUNITY_STAFF]
    if staff_of:
        since = today - timedelta(days=DECIDED_SHOWN_DAYS)
        decided = list(
            appeals.filter(
                enrollment__community__path__in=staff_of,
                status__in=(AppealStatus.UPHELD, AppealStatus.CHANGED),
                decided_at__date__gte=since,
            )
        )
        if decided:
            found.append(
                Todo(
                    key="appeals_decided",
                    title=_("Appeals decided"),
                    count=len(decided),
                    url=_appeal_url("appeal_detail", decided[0]),
                    lines=_appeal_lines(decided, lambda a: a.get_status_display()),
                )
            )
    return found
