"""What is open for a person in a campaign's plan: his unit's tasks, or his area's overdue ones.

Read through `selectors.visible_tasks` (the task list's own scope) and `selectors.overdue_q`
(the task list's own "overdue"), so the to-do list counts what the task list shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.campaigns import selectors
from civicmark.campaigns.models import Campaign, TaskStatus
from civicmark.core.todo import Line, Todo

LINES = 8  # the first few of a kind on the home page; the link shows them all


def todos_for(*, user: Any, campaign: Campaign, today: date) -> list[Todo]:
    roles = authz.roles_of(user)
    found = []
    if Role.COMMUNITY_STAFF in roles:
        found.append(_own_tasks(user, campaign, today))
    if authz.is_super(user) or roles & {Role.TOWN_OFFICER, Role.COUNTY_OFFICER, Role.CITY_ADMIN}:
        found.append(_overdue_by_unit(user, campaign, today))
    return [t for t in found if t is not None]


def _own_tasks(user: Any, campaign: Campaign, today: date) -> Todo | None:
    """The open tasks of the community the person staffs, the late ones first."""
    paths = [g.path for g in authz.grants(user) if g.role == Role.COMMUNITY_STAFF]
    mine = selectors.visible_tasks(user, campaign).filter(division__path__in=paths)
    tasks = list(mine.exclude(status=TaskStatus.DONE).order_by("due_on", "pk"))
    if not tasks:
        return None
    late = set(mine.filter(selectors.overdue_q(today)).values_list("pk", flat=True))
    tasks.sort(key=lambda t: t.pk not in late)  # the late ones first, each group by its date
    return Todo(
        key="tasks",
        title=_("My unit's tasks"),
        count=len(tasks),
        url=reverse("task_list", args=[campaign.slug]),
        detail=_("%d overdue") % len(late) if late else "",
        lines=tuple(
            Line(t.title, note=t.due_on.isoformat(), late=t.pk in late) for t in tasks[:LINES]
        ),
        late=bool(late),
    )


def _overdue_by_unit(user: Any, campaign: Campaign, today: date) -> Todo | None:
    """The overdue tasks in the person's area, counted by unit (one grouped query)."""
    rows = list(
        selectors.visible_tasks(user, campaign)
        .filter(selectors.overdue_q(today))
        .order_by()
        .values("division__code", "division__name", "division__path")
        .annotate(n=Count("id"))
        .order_by("-n", "division__path")
    )
    if not rows:
        return None
    base = reverse("task_list", args=[campaign.slug])
    return Todo(
        key="overdue_tasks",
        title=_("Overdue tasks"),
        count=sum(r["n"] for r in rows),
        url=f"{base}?show=overdue",
        detail=_("in %d units") % len(rows),
        lines=tuple(
            Line(
                r["division__name"],
                url=f"{base}?show=overdue&division={r['division__code']}",
                note=str(r["n"]),
                late=True,
            )
            for r in rows[:LINES]
        ),
        late=True,
    )
