"""What waits for the city in the re-checks of titles (the home page's to-do, ADR 18): the
drawn titles still to re-check, and the failed ones past their deadline that await the
follow-up or the withdrawal (late). Only whoever may re-check the campaign's titles is asked;
two queries per campaign, whatever the number of titles."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.campaigns.models import Campaign
from civicmark.core.todo import Line, Todo
from civicmark.results.models import RecheckStatus, TitleRecheck
from civicmark.results.titles import city_refusal

LINES = 5


def _line(recheck: TitleRecheck, url: str, note: str = "", late: bool = False) -> Line:
    return Line(recheck.certificate.enrollment.community.name, url=url, note=note, late=late)


def todos_for(*, user: Any, campaign: Campaign, today: date) -> list[Todo]:
    if not getattr(user, "pk", None):
        return []
    found = TitleRecheck.objects.filter(
        draw__campaign=campaign, certificate__revoked_at__isnull=True
    ).select_related("certificate__enrollment__community", "rectification", "draw")
    pending = list(found.filter(status=RecheckStatus.PENDING)[: LINES + 1])
    overdue = list(
        found.filter(
            Q(status=RecheckStatus.FAILED, rectification__due_on__lt=today)
            | Q(status=RecheckStatus.FAILED_AGAIN)
        ).order_by("rectification__due_on", "pk")
    )
    if not (pending or overdue) or city_refusal(user, campaign) is not None:
        return []
    url = reverse("titles", args=[campaign.slug])
    todos = []
    if overdue:
        todos.append(
            Todo(
                key="title_deadlines",
                title=_("Title re-checks past their deadline"),
                count=len(overdue),
                url=url,
                detail=_("Re-check them again, or withdraw the title."),
                lines=tuple(
                    _line(
                        r,
                        url,
                        note=r.rectification.due_on.isoformat()
                        if r.rectification and r.rectification.due_on
                        else "",
                        late=True,
                    )
                    for r in overdue[:LINES]
                ),
                late=True,
            )
        )
    if pending:
        count = found.filter(status=RecheckStatus.PENDING).count()
        todos.append(
            Todo(
                key="title_rechecks",
                title=_("Titles to re-check"),
                count=count,
                url=url,
                lines=tuple(_line(r, url, note=str(r.draw.year)) for r in pending[:LINES]),
            )
        )
    return todos
