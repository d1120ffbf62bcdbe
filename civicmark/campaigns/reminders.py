"""Tasks announced before they are due, and escalated once overdue (issue 18 items 3 and 4).

Who answers for a task (`task_owners`): the person it is assigned to, or else whoever holds its
unit's office (a community's staff, a town's officers...). The periodic jobs (`periodic.py`)
call these with the clock's `now`; each is idempotent by its notification keys and by the
escalation engine's rows (ADR 26)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.campaigns.models import Task, TaskStatus
from civicmark.notifications import escalation, reminders
from civicmark.notifications.models import Escalation, Event
from civicmark.notifications.services import notify


def _open_tasks() -> QuerySet[Task]:
    return (
        Task.objects.exclude(status=TaskStatus.DONE)
        .select_related("division", "campaign__division", "owner")
        .order_by("due_on", "pk")
    )


def task_link(task: Task) -> str:
    return reverse("task_update", args=[task.campaign.slug, task.public_id])


def _owners_of(tasks: list[Task]) -> Callable[[Task], list[User]]:
    """`task_owners` for many tasks, with the offices read in one query."""
    holders = authz.office_holders({t.division for t in tasks})

    def owners(task: Task) -> list[User]:
        if task.owner is not None and task.owner.is_active:
            return [task.owner]
        return list(holders.get(task.division_id, []))

    return owners


def task_owners(task: Task) -> list[User]:
    """Who answers for the task: its assigned owner, or whoever holds its unit's office."""
    return _owners_of([task])(task)


def tasks_due_soon(now: datetime) -> int:
    """Tell each open task's owners, once per due date, when it falls due within the window."""
    today, last = reminders.due_soon(now)
    tasks = list(_open_tasks().filter(due_on__gte=today, due_on__lte=last))
    return reminders.announce_each(
        tasks,
        _owners_of(tasks),
        lambda t: f"task_due:{t.public_id}:{t.due_on.isoformat()}",
        _announce,
    )


def _announce(task: Task, people: list[User], key: str) -> list[object]:
    due, unit, campaign = task.due_on.isoformat(), task.division.name, task.campaign.name
    return list(
        notify(
            people,
            event=Event.TASK_DUE,
            key=key,
            title=lambda: _("Due on %(date)s: %(task)s") % {"date": due, "task": task.title},
            body=lambda: _("%(unit)s, %(campaign)s.") % {"unit": unit, "campaign": campaign},
            link=task_link(task),
            scope_path=task.division.path,
        )
    )


def tasks_overdue(now: datetime, among: QuerySet[Task] | None = None) -> list[Escalation]:
    """Every open task (of `among`, when given) with an escalation step due today (ADR 26),
    handed to the engine."""
    today = timezone.localdate(now)
    found = _open_tasks() if among is None else _open_tasks().filter(pk__in=among.values("pk"))
    tasks = list(
        found.filter(
            escalation.pending_q("task", id_field="public_id", due_field="due_on", today=today)
        )
    )
    owners = _owners_of(tasks)
    return escalation.advance([_overdue(task, owners) for task in tasks], now)


def _overdue(task: Task, owners: Callable[[Task], list[User]]) -> escalation.Overdue:
    return escalation.Overdue(
        object_type="task",
        public_id=task.public_id,
        due_on=task.due_on,
        unit=task.division,
        top_path=task.campaign.division.path,
        owners=lambda: owners(task),
        what=lambda: task.title,
        link=task_link(task),
        owner_event=Event.TASK_OVERDUE,
        still_open=lambda: _still_open(task),
    )


def _still_open(task: Task) -> bool:
    """Read under the task's lock: a task ticked done (or moved later) meanwhile takes no step."""
    return bool(
        Task.objects.select_for_update(of=("self",))
        .order_by()
        .filter(pk=task.pk, due_on=task.due_on)
        .exclude(status=TaskStatus.DONE)
        .values_list("pk", flat=True)
    )
