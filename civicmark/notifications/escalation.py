"""Escalation (issue 18 item 4, ADR 26): one rule for work left overdue, whatever the work is.

An overdue task or rectification goes to its owner on the first day it is overdue; once it is
`CIVICMARK_ESCALATE_HEAD_DAYS` days overdue, to the office above the owner's unit (a
community's town); `CIVICMARK_ESCALATE_ABOVE_DAYS` days after that, to the office above that
one (the county). Never above the office that runs the campaign (`Overdue.top_path`).

Each step is one `Escalation` row (one per object and level), one audit event and one
notification per person, written in one transaction: a job that runs again, late or twice finds
the row and takes no step twice. The apps that own the work scan for it (`campaigns.reminders`,
`assessments.reminders`) and hand this engine plain data (`Overdue`): the engine imports no app
above it (ADR 19). Work that is done takes no step: the scanners pass only open work, and
`Overdue.still_open`, read under the object's row lock inside the step's transaction, stops a
step that races the completion.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.core import audit
from civicmark.divisions.models import Division
from civicmark.notifications.models import Escalation, EscalationLevel, Event
from civicmark.notifications.services import notify


@dataclass(frozen=True)
class Overdue:
    """What a scanner knows of one piece of open work past its due date."""

    object_type: str  # "task", "rectification"
    public_id: uuid.UUID
    due_on: date
    unit: Division  # whose work it is: the owner's unit
    top_path: str  # the highest office a step may reach: the campaign's own division
    owners: Callable[[], list[User]]
    what: Callable[[], str]  # the work, named in the reader's language
    link: str
    owner_event: str = Event.TASK_OVERDUE
    # Read inside the step's transaction under the object's lock: False once it is done.
    still_open: Callable[[], bool] = field(default=lambda: True)


def days() -> tuple[int, int]:
    """(days overdue before the office above is told, days after that before the next)."""
    return (
        max(1, int(settings.CIVICMARK_ESCALATE_HEAD_DAYS)),
        max(1, int(settings.CIVICMARK_ESCALATE_ABOVE_DAYS)),
    )


def levels_due(due_on: date, today: date, *, head_days: int, above_days: int) -> list[int]:
    """The levels whose day has come for work due on `due_on` and still open `today` (the pure
    rule): the owner from the first day overdue, the office above from `head_days` overdue, the
    one above that `above_days` later."""
    overdue = (today - due_on).days
    thresholds = [
        (EscalationLevel.OWNER, 1),
        (EscalationLevel.HEAD, max(1, head_days)),
        (EscalationLevel.ABOVE, max(1, head_days) + max(1, above_days)),
    ]
    return [int(level) for level, after in thresholds if overdue >= after]


def pending_q(object_type: str, *, id_field: str, due_field: str, today: date) -> Q:
    """A filter on the owning model: its rows for which a step is due today and not yet taken
    (the scanners add "still open"). Once every step is taken an object costs the scan one
    index probe, not a look at it."""
    head, above = days()

    def untaken(level: int) -> Q:
        taken = Escalation.objects.filter(
            object_type=object_type, object_id=OuterRef(id_field), level=level
        )
        return ~Q(Exists(taken))

    owner = Q(**{f"{due_field}__lt": today}) & untaken(EscalationLevel.OWNER)
    head_due = Q(**{f"{due_field}__lte": today - timedelta(days=head)})
    above_due = Q(**{f"{due_field}__lte": today - timedelta(days=head + above)})
    return (
        owner
        | (head_due & untaken(EscalationLevel.HEAD))
        | (above_due & untaken(EscalationLevel.ABOVE))
    )


def advance(subjects: Iterable[Overdue], now: datetime) -> list[Escalation]:
    """Take every step whose day has come and that is not taken yet; return those taken."""
    today = timezone.localdate(now)
    head, above = days()
    subjects = list(subjects)
    taken = _taken(subjects)
    done: list[Escalation] = []
    for subject in subjects:
        for level in levels_due(subject.due_on, today, head_days=head, above_days=above):
            if (subject.object_type, subject.public_id, level) in taken:
                continue
            step = _take(subject, level, now)
            if step is None:
                break  # done meanwhile (or nobody above): nothing further either
            done.append(step)
    return done


def _taken(subjects: list[Overdue]) -> set[tuple[str, uuid.UUID, int]]:
    found: set[tuple[str, uuid.UUID, int]] = set()
    for start in range(0, len(subjects), 500):
        chunk = subjects[start : start + 500]
        found.update(
            Escalation.objects.filter(
                object_type__in={s.object_type for s in chunk},
                object_id__in=[s.public_id for s in chunk],
            ).values_list("object_type", "object_id", "level")
        )
    return found


def offices_above(unit: Division, top_path: str) -> list[Division]:
    """The divisions above the unit, nearest first, up to the campaign's own (`top_path`)."""
    parts = [p for p in unit.path.split("/") if p]
    paths = ["/" + "/".join(parts[:n]) + "/" for n in range(len(parts) - 1, 0, -1)]
    wanted = [p for p in paths if p.startswith(top_path)]
    by_path = {d.path: d for d in Division.objects.filter(path__in=wanted)}
    return [by_path[p] for p in wanted if p in by_path]


def _take(subject: Overdue, level: int, now: datetime) -> Escalation | None:
    office = None
    if level != EscalationLevel.OWNER:
        above = offices_above(subject.unit, subject.top_path)
        if len(above) < level:
            return None  # the campaign's own office is the owner's head: no one further
        office = above[level - 1]
    with transaction.atomic():
        if not subject.still_open():
            return None
        people = subject.owners() if office is None else authz.office_holders([office])[office.pk]
        try:
            with transaction.atomic():
                step = Escalation.objects.create(
                    object_type=subject.object_type,
                    object_id=subject.public_id,
                    level=level,
                    office=office,
                    at=now,
                    due_on=subject.due_on,
                    scope_path=subject.unit.path,
                )
        except IntegrityError:  # taken meanwhile by another run of the job
            return None
        step.recipients.set(people)
        overdue = (timezone.localdate(now) - subject.due_on).days
        with translation.override(settings.LANGUAGE_CODE):
            summary = subject.what()
        audit.record(
            actor=None,
            via="system",
            action="escalation.step",
            object_type=subject.object_type,
            object_ref=str(subject.public_id),
            scope_path=subject.unit.path,
            summary=summary,
            after={
                "level": level,
                "office": office.code if office is not None else None,
                "due_on": subject.due_on.isoformat(),
                "days_overdue": overdue,
                "recipients": [p.username for p in people],
            },
        )
        _tell(subject, step, people, overdue)
    return step


def _tell(subject: Overdue, step: Escalation, people: list[User], overdue: int) -> None:
    unit, due = subject.unit.name, subject.due_on.isoformat()
    if step.office is None:
        notify(
            people,
            event=subject.owner_event,
            key=f"escalation:{subject.object_type}:{subject.public_id}:{step.level}",
            title=lambda: _("Overdue: %(what)s") % {"what": subject.what()},
            body=lambda: _("%(unit)s: it was due on %(due)s.") % {"unit": unit, "due": due},
            link=subject.link,
            scope_path=subject.unit.path,
        )
        return
    office = step.office.name
    notify(
        people,
        event=Event.ESCALATED,
        key=f"escalation:{subject.object_type}:{subject.public_id}:{step.level}",
        title=lambda: (
            _("Escalated to %(office)s: %(what)s") % {"office": office, "what": subject.what()}
        ),
        body=lambda: (
            _("%(unit)s has not finished it: due on %(due)s, %(days)d days overdue.")
            % {"unit": unit, "due": due, "days": overdue}
        ),
        link=subject.link,
        scope_path=subject.unit.path,
    )


def steps_for(object_type: str, public_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Step]]:
    """The steps taken for each object, in order, for its page (two queries)."""
    found: dict[uuid.UUID, list[Step]] = {}
    rows = (
        Escalation.objects.filter(object_type=object_type, object_id__in=list(public_ids))
        .select_related("office")
        .prefetch_related("recipients")
        .order_by("object_id", "level")
    )
    for row in rows:
        found.setdefault(row.object_id, []).append(
            Step(
                level=row.level,
                office=row.office.name if row.office is not None else "",
                on=timezone.localdate(row.at),
                people=", ".join(str(p) for p in row.recipients.all()),
            )
        )
    return found


@dataclass(frozen=True)
class Step:
    """One step as its object's page shows it."""

    level: int
    office: str  # empty: the owner was told
    on: date
    people: str
