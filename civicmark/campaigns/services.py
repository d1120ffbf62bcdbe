"""Every write to campaigns: create (with the plan's phases, tasks and rounds), dates, tasks, meetings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.campaigns.models import (
    MAX_APPEAL_DAYS,
    AcceptanceRound,
    Attendance,
    Campaign,
    Enrollment,
    Meeting,
    MissingEvidence,
    Phase,
    Task,
    TaskAttachment,
    TaskStatus,
)
from civicmark.campaigns.plan import FOLLOWS, ROUNDS, STEPS, on, task_due
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.files import store_upload
from civicmark.divisions.models import Division, Level
from civicmark.standards.models import Standard, Status


def campaign_slug(name: str, year: int, division: Division) -> str:
    """An identifier for a campaign nobody gave one: the name's Latin letters and digits (a name
    in Chinese has none) or else the running division's code, then the year, then -2, -3... until
    no campaign has it. Transliterating Chinese (pypinyin) was weighed and left out: it adds a
    dependency and megabytes of dictionaries for a string only addresses and file names show,
    guesses wrong on names with several readings (重庆, 长安), and the person may type his own."""
    from django.utils.text import slugify

    base = slugify(name)[:40].strip("-") or slugify(division.code)[:40].strip("-") or "campaign"
    if str(year) not in base:
        base = f"{base}-{year}"
    slug, n = base, 1
    while Campaign.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def campaign_create(
    *,
    actor: Any,
    slug: str,
    name: str,
    year: int,
    division: Division,
    standard: Standard,
    communities: Iterable[Division] | None = None,
    pilots: Iterable[str] = (),
    missing_evidence: str = "warn",
    appeal_days: int = 7,
    via: str = "web",
) -> Campaign:
    """A campaign with the plan's six steps as phases, their tasks for every unit, and the rounds.

    `missing_evidence` says whether a self-assessment submitted with items still lacking the
    evidence they ask only warns ("warn", the default) or is refused ("block"). `appeal_days`:
    how long after a round's results a community may appeal (0: no appeals)."""
    if not authz.can_manage_campaigns(actor, division):
        raise NotAllowed(_("You may not start a campaign for %s.") % division.name)
    if missing_evidence not in MissingEvidence.values:
        raise ApplicationError(_("Missing evidence either warns or blocks a submission."))
    if not 0 <= appeal_days <= MAX_APPEAL_DAYS:
        raise ApplicationError(
            _("Appeals are taken for 0 to %(max)d days after a round's results.")
            % {"max": MAX_APPEAL_DAYS}
        )
    if standard.status != Status.PUBLISHED:
        raise ApplicationError(_("A campaign is pinned to a published standard."))
    if division.level not in (Level.CITY, Level.COUNTY):
        raise ApplicationError(_("A campaign is run by a city or a county."))
    members = (
        list(communities)
        if communities is not None
        else list(Division.objects.filter(level=Level.COMMUNITY, path__startswith=division.path))
    )
    outside = [
        c.code
        for c in members
        if c.level != Level.COMMUNITY or not c.path.startswith(division.path)
    ]
    if outside:
        raise ApplicationError(
            _("Not communities of %(division)s: %(codes)s.")
            % {"division": division.name, "codes": ", ".join(outside)}
        )
    if not members:
        raise ApplicationError(_("A campaign needs at least one community."))
    pilot_codes = set(pilots)
    with transaction.atomic():
        if Campaign.objects.filter(slug=slug).exists():
            raise ApplicationError(_("The slug %s is taken.") % slug)
        campaign = Campaign.objects.create(
            slug=slug,
            name=name,
            year=year,
            division=division,
            standard=standard,
            missing_evidence=missing_evidence,
            appeal_days=appeal_days,
        )
        Enrollment.objects.bulk_create(
            Enrollment(campaign=campaign, community=c, is_pilot=c.code in pilot_codes)
            for c in members
        )
        _plan_phases(campaign, members, pilot_codes)
        AcceptanceRound.objects.bulk_create(
            AcceptanceRound(
                campaign=campaign,
                number=n,
                name=str(label),
                level=level,
                opens_on=on(year, start),
                closes_on=on(year, end),
                carries_from=carry,
            )
            for n, label, level, start, end, carry in ROUNDS
        )
        audit.record(
            actor=actor,
            via=via,
            action="campaign.created",
            object_type="campaign",
            object_ref=slug,
            scope_path=division.path,
            summary=name,
            after={
                "standard": f"{standard.slug}@{standard.version}",
                "communities": len(members),
                "appeal_days": appeal_days,
            },
        )
    return campaign


def _plan_phases(campaign: Campaign, communities: list[Division], pilots: set[str]) -> None:
    towns = Division.objects.filter(pk__in={c.parent_id for c in communities}).order_by("path")
    counties = Division.objects.filter(pk__in={t.parent_id for t in towns}).order_by("path")
    # The town and county civil affairs offices above the pilot communities run the pilot.
    # The set is built once (built per town, it made a country's campaign quadratic: 11,000
    # towns times 110,000 communities).
    above_pilots = {c.parent_id for c in communities if c.code in pilots}
    pilot_towns = [t for t in towns if t.pk in above_pilots]
    pilot_counties = {t.parent_id for t in pilot_towns}
    units = {
        "county": list(counties),
        "town": list(towns),
        "pilot": [c for c in communities if c.code in pilots],
        "pilot_town": pilot_towns,
        "pilot_county": [k for k in counties if k.pk in pilot_counties],
        "community": [c for c in communities if c.code not in pilots],
        "every_community": communities,
    }
    tasks = []
    for order, step in enumerate(STEPS):
        phase = Phase.objects.create(
            campaign=campaign,
            key=step.key,
            name=str(step.name),
            order=order,
            starts_on=on(campaign.year, step.start),
            due_on=on(campaign.year, step.due),
        )
        for which, title in step.tasks:
            for unit in units[which]:
                tasks.append(
                    Task(
                        campaign=campaign,
                        phase=phase,
                        division=unit,
                        title=str(title),
                        due_on=task_due(phase.due_on, unit.level),
                        follows=FOLLOWS.get((step.key, which), ""),
                    )
                )
    Task.objects.bulk_create(tasks)


def phase_set_due(
    *, actor: Any, phase: Phase, due_on: date, starts_on: date | None = None
) -> Phase:
    """Move a phase's date; every task that follows the phase moves with it, a step earlier per level."""
    if not authz.can_manage_campaigns(actor, phase.campaign.division):
        raise NotAllowed(_("You may not change this campaign's plan."))
    starts_on = starts_on or phase.starts_on
    if starts_on > due_on:
        raise ApplicationError(_("A phase cannot end before it starts."))
    with transaction.atomic():
        before = {"starts": str(phase.starts_on), "due": str(phase.due_on)}
        phase.starts_on, phase.due_on = starts_on, due_on
        phase.save(update_fields=["starts_on", "due_on"])
        following = list(phase.tasks.filter(due_set_by_hand=False).select_related("division"))
        for task in following:
            task.due_on = task_due(due_on, task.division.level)
        Task.objects.bulk_update(following, ["due_on"])
        audit.record(
            actor=actor,
            action="phase.rescheduled",
            object_type="campaign",
            object_ref=phase.campaign.slug,
            scope_path=phase.campaign.division.path,
            summary=phase.name,
            before=before,
            after={"starts": str(starts_on), "due": str(due_on), "tasks_moved": len(following)},
        )
    return phase


def task_update(
    *, actor: Any, task: Task, status: str, note: str | None = None, due_on: date | None = None
) -> Task:
    if not authz.can_update_task(actor, task):
        raise NotAllowed(_("You may not update this task."))
    if status not in TaskStatus.values:
        raise ApplicationError(_("Unknown status %s.") % status)
    if task.follows and status != task.status:
        # Its status is the work's: ticked by hand it would say what the work does not.
        raise ApplicationError(
            _("“%(task)s” follows the work: it is done when %(when)s.")
            % {"task": task.title, "when": task.get_follows_display()}
        )
    if (
        due_on is not None
        and not authz.can_manage_campaigns(actor, task.campaign.division)
        and not authz.can_change_division(actor, task.division)
    ):
        raise NotAllowed(_("Only the unit above may move this task's due date."))
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        before = {"status": task.status, "due": str(task.due_on), "note": task.note}
        task.status = status
        task.done_at = timezone.now() if status == TaskStatus.DONE else None
        if note is not None:
            task.note = note
        if due_on is not None and due_on != task.due_on:
            task.due_on, task.due_set_by_hand = due_on, True
        task.save(update_fields=["status", "done_at", "note", "due_on", "due_set_by_hand"])
        audit.record(
            actor=actor,
            action="task.updated",
            object_type="task",
            object_ref=str(task.public_id),
            scope_path=task.division.path,
            summary=task.title,
            before=before,
            after={"status": task.status, "due": str(task.due_on), "note": task.note},
        )
    return task


def task_attach(*, actor: Any, task: Task, upload: Any) -> TaskAttachment:
    if not authz.can_update_task(actor, task):
        raise NotAllowed(_("You may not update this task."))
    stored = store_upload(upload, folder=f"tasks/{task.campaign.slug}")
    with transaction.atomic():
        attachment = TaskAttachment.objects.create(
            task=task,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            **stored.fields(),
        )
        audit.record(
            actor=actor,
            action="task.attached",
            object_type="task",
            object_ref=str(task.public_id),
            scope_path=task.division.path,
            summary=stored.name,
            after={"file": stored.name, "sha256": stored.sha256, "size": stored.size},
        )
    return attachment


def task_assign(*, actor: Any, task: Task, owner: Any) -> Task:
    if not authz.can_update_task(actor, task):
        raise NotAllowed(_("You may not update this task."))
    if owner is not None and not authz.users_for_user(actor).filter(pk=owner.pk).exists():
        raise NotAllowed(_("That person is outside your area."))
    with transaction.atomic():
        before = {"owner": getattr(task.owner, "username", None)}
        task.owner = owner
        task.save(update_fields=["owner"])
        audit.record(
            actor=actor,
            action="task.assigned",
            object_type="task",
            object_ref=str(task.public_id),
            scope_path=task.division.path,
            summary=task.title,
            before=before,
            after={"owner": getattr(owner, "username", None)},
        )
    return task


def meeting_create(
    *,
    actor: Any,
    campaign: Campaign,
    kind: str,
    title: str,
    held_on: date,
    host: Division,
    place: str = "",
    agenda: str = "",
    expected: Iterable[tuple[Division, str]] = (),
) -> Meeting:
    if not authz.can_manage_groups(actor, host) or not host.path.startswith(campaign.division.path):
        raise NotAllowed(_("You may not hold a meeting for %s.") % host.name)
    enrolled = set(campaign.enrollments.values_list("community_id", flat=True))
    expected = list(expected)
    strangers = [
        c.name for c, _n in expected if c.pk not in enrolled or not c.path.startswith(host.path)
    ]
    if strangers:
        raise ApplicationError(
            _("Not communities of this campaign under %(host)s: %(names)s.")
            % {"host": host.name, "names": ", ".join(strangers)}
        )
    with transaction.atomic():
        meeting = Meeting.objects.create(
            campaign=campaign,
            kind=kind,
            title=title.strip(),
            held_on=held_on,
            host=host,
            place=place,
            agenda=agenda,
        )
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, community=c, name=n) for c, n in expected
        )
        audit.record(
            actor=actor,
            action="meeting.created",
            object_type="meeting",
            object_ref=str(meeting.public_id),
            scope_path=host.path,
            summary=meeting.title,
            after={"kind": kind, "date": str(held_on), "expected": len(expected)},
        )
    return meeting


def attendance_record(
    *, actor: Any, meeting: Meeting, present: set[int], minutes: str | None = None
) -> Meeting:
    """Record who came (by attendance row id, from the host's own list) and the minutes."""
    if not authz.can_manage_groups(actor, meeting.host):
        raise NotAllowed(_("You may not record this meeting."))
    with transaction.atomic():
        rows = list(meeting.attendance.select_for_update())
        for row in rows:
            row.attended = row.pk in present
        Attendance.objects.bulk_update(rows, ["attended"])
        if minutes is not None:
            meeting.minutes = minutes
            meeting.save(update_fields=["minutes"])
        audit.record(
            actor=actor,
            action="meeting.attendance",
            object_type="meeting",
            object_ref=str(meeting.public_id),
            scope_path=meeting.host.path,
            summary=meeting.title,
            after={"attended": sum(r.attended for r in rows), "expected": len(rows)},
        )
    return meeting
