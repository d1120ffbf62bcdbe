"""What waits for a person in calibration (the home page's to-do, ADR 18): a panel member's
unfinished sheets of open exercises; the round's lead, the open exercises and how many sheets
are complete. Two queries per campaign, whatever the number of exercises."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.campaigns.models import Campaign
from civicmark.core.todo import Line, Todo
from civicmark.quality.calibration import may_lead
from civicmark.quality.models import CalibrationExercise


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
    return found
