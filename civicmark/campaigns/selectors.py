"""Reads that summarise a campaign for one person: progress, overdue work, attendance."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, When

from civicmark.accounts import authz
from civicmark.campaigns.models import Attendance, Campaign, Task, TaskStatus
from civicmark.divisions.models import Division, Level


def visible_tasks(user: Any, campaign: Campaign) -> QuerySet[Task]:
    return authz.tasks_for_user(user).filter(campaign=campaign)


def overdue_q(today: date) -> Q:
    return ~Q(status=TaskStatus.DONE) & Q(due_on__lt=today)


def progress_by_phase(user: Any, campaign: Campaign, today: date) -> list[dict[str, Any]]:
    """Per phase: tasks, done, overdue (one aggregate query)."""
    rows = {
        r["phase"]: r
        for r in visible_tasks(user, campaign)
        .values("phase")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=TaskStatus.DONE)),
            overdue=Count("id", filter=overdue_q(today)),
        )
    }
    result = []
    for phase in campaign.phases.all():
        r = rows.get(phase.pk, {"total": 0, "done": 0, "overdue": 0})
        result.append(
            {
                "phase": phase,
                "total": r["total"],
                "done": r["done"],
                "overdue": r["overdue"],
                "percent": round(100 * r["done"] / r["total"]) if r["total"] else 0,
                "current": phase.starts_on <= today <= phase.due_on,
            }
        )
    return result


def progress_by_town(user: Any, campaign: Campaign, today: date) -> list[dict[str, Any]]:
    """Per town: the tasks of the town and of its communities, grouped by the database."""
    tasks = visible_tasks(user, campaign).filter(division__level__in=[Level.TOWN, Level.COMMUNITY])
    towns = (
        authz.divisions_for_user(user)
        .filter(level=Level.TOWN, pk__in=campaign.enrollments.values("community__parent_id"))
        .order_by("path")
    )
    town_of = Case(
        When(division__level=Level.TOWN, then=F("division_id")),
        default=F("division__parent_id"),
        output_field=IntegerField(),
    )
    counts = {
        r["town"]: r
        for r in tasks.annotate(town=town_of)
        .values("town")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=TaskStatus.DONE)),
            overdue=Count("id", filter=overdue_q(today)),
        )
    }
    result = []
    for town in towns:
        c = counts.get(town.pk, {"total": 0, "done": 0, "overdue": 0})
        result.append(
            {
                "town": town,
                "total": c["total"],
                "done": c["done"],
                "overdue": c["overdue"],
                "percent": round(100 * c["done"] / c["total"]) if c["total"] else 0,
            }
        )
    return result


def progress_by_community(user: Any, campaign: Campaign, today: date) -> list[dict[str, Any]]:
    rows = {
        r["division"]: r
        for r in visible_tasks(user, campaign)
        .filter(division__level=Level.COMMUNITY)
        .values("division")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=TaskStatus.DONE)),
            overdue=Count("id", filter=overdue_q(today)),
        )
    }
    result = []
    for e in campaign.enrollments.filter(
        community__in=authz.divisions_for_user(user)
    ).select_related("community"):
        r = rows.get(e.community_id, {"total": 0, "done": 0, "overdue": 0})
        result.append(
            {
                "enrollment": e,
                "community": e.community,
                "total": r["total"],
                "done": r["done"],
                "overdue": r["overdue"],
                "percent": round(100 * r["done"] / r["total"]) if r["total"] else 0,
            }
        )
    return result


def due_this_week(user: Any, campaign: Campaign, today: date) -> QuerySet[Task]:
    return (
        visible_tasks(user, campaign)
        .exclude(status=TaskStatus.DONE)
        .filter(due_on__gte=today, due_on__lt=today + timedelta(days=7))
    )


def attendance_rates(user: Any, campaign: Campaign) -> list[dict[str, Any]]:
    rows = (
        Attendance.objects.filter(
            meeting__campaign=campaign, community__in=authz.divisions_for_user(user)
        )
        .values("community")
        .annotate(expected=Count("id"), came=Count("id", filter=Q(attended=True)))
    )
    names = dict(
        Division.objects.filter(pk__in=[r["community"] for r in rows]).values_list("pk", "name")
    )
    return [
        {
            "community": names[r["community"]],
            "expected": r["expected"],
            "came": r["came"],
            "percent": round(100 * r["came"] / r["expected"]) if r["expected"] else 0,
        }
        for r in sorted(rows, key=lambda r: names[r["community"]])
    ]
