"""Reads that check access to campaigns, rounds, tasks and meetings (built on the scope
primitives of accounts.authz), and those that summarise a campaign for one person: progress,
overdue work, attendance."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, When

from civicmark.accounts import authz
from civicmark.campaigns.models import (
    AcceptanceRound,
    Attendance,
    Campaign,
    Meeting,
    Task,
    TaskStatus,
)
from civicmark.divisions.models import Division, Level


def campaigns_for_user(user: Any) -> QuerySet[Campaign]:
    """A campaign is seen by the unit that runs it, those above it and everyone under it."""
    return Campaign.objects.select_related("division", "standard").filter(
        authz.within_or_above(user, "division__path")
    )


def sees_whole(user: Any, campaign: Campaign) -> bool:
    """Whether the viewer's scope holds every community of the campaign (a city officer of the
    campaign's unit, one above it, a superuser): then a whole-campaign snapshot is exactly what
    his own queries would count (ADR 29, ADR 30)."""
    return authz.sees_all_under(user, campaign.division.path)


def rounds_for_user(user: Any) -> QuerySet[AcceptanceRound]:
    """The acceptance rounds of the campaigns the person sees, with their campaign: a round page
    finds campaign and round in one query (the round pages add what the panels need, with
    `assessments.panels.with_choices`)."""
    return rounds_with_campaign().filter(authz.within_or_above(user, "campaign__division__path"))


def rounds_with_campaign() -> QuerySet[AcceptanceRound]:
    """Every round with its campaign, unscoped: for a page that fetches one round by its key
    and asks the scope of it (`authz.get_seen_or_404(..., or_above=True)`), the rule of
    `rounds_for_user` asked in Python."""
    return AcceptanceRound.objects.select_related("campaign__division", "campaign__standard")


def tasks_for_user(user: Any) -> QuerySet[Task]:
    return Task.objects.select_related("division", "phase", "campaign").filter(
        authz.within_scope(user, "division__path")
    )


def meetings_for_user(user: Any) -> QuerySet[Meeting]:
    return Meeting.objects.select_related("host", "campaign").filter(
        authz.within_scope(user, "host__path")
    )


def enrollments_by_code(
    campaign: Campaign, codes: list[str], *, user: Any = None
) -> dict[str, Any]:
    """The campaign's enrollments (with their community) for these community codes, a thousand
    codes per query (a sheet or a list may name thousands); unknown codes are simply absent.
    Given a `user`, only those he may see: a code outside his scope is as unknown as one that
    does not exist (ADR 15, scope in refusals)."""
    found: dict[str, Any] = {}
    enrollments = campaign.enrollments.select_related("community")
    if user is not None:
        enrollments = enrollments.filter(authz.within_scope(user, "community__path"))
    for start in range(0, len(codes), 1000):
        for e in enrollments.filter(community__code__in=codes[start : start + 1000]):
            found[e.community.code] = e
    return found


def visible_tasks(user: Any, campaign: Campaign) -> QuerySet[Task]:
    return tasks_for_user(user).filter(campaign=campaign)


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


def progress_by_community(
    user: Any, campaign: Campaign, today: date, limit: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Per community: its tasks done and overdue, those with the most overdue (then the most
    still open) first; with `limit`, the database picks that many and only they are read (a
    province holds 10,000). Returns the rows and how many communities there are in all."""
    enrollments = campaign.enrollments.filter(authz.within_scope(user, "community__path"))
    counts = (
        visible_tasks(user, campaign)
        .filter(division__level=Level.COMMUNITY)
        .order_by()
        .values("division")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=TaskStatus.DONE)),
            overdue=Count("id", filter=overdue_q(today)),
        )
        .annotate(open=F("total") - F("done") - F("overdue"))
        .order_by("-overdue", "-open", "division__path")
    )
    found = list(counts if limit is None else counts[:limit])
    by_community = {
        e.community_id: e
        for e in enrollments.select_related("community").filter(
            community_id__in=[r["division"] for r in found]
        )
    }
    result = []
    for r in found:
        e = by_community.get(r["division"])
        if e is None:
            continue  # a task of a community no longer in the campaign
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
    return result, enrollments.count()


def due_this_week(user: Any, campaign: Campaign, today: date) -> QuerySet[Task]:
    return (
        visible_tasks(user, campaign)
        .exclude(status=TaskStatus.DONE)
        .filter(due_on__gte=today, due_on__lt=today + timedelta(days=7))
        .order_by("due_on", "division__path", "pk")  # a total order: the first few are the same
    )


def attendance_rates(
    user: Any, campaign: Campaign, limit: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Per community: people expected at the campaign's meetings and training, and how many came;
    the lowest rates first (with `limit`, only that many are named). Returns the rows and how
    many communities have any."""
    rows = list(
        Attendance.objects.filter(
            meeting__campaign=campaign, community__in=authz.divisions_for_user(user)
        )
        .values("community")
        .annotate(expected=Count("id"), came=Count("id", filter=Q(attended=True)))
    )
    for r in rows:
        r["percent"] = round(100 * r["came"] / r["expected"]) if r["expected"] else 0
    rows.sort(key=lambda r: (r["percent"], r["community"]))
    shown = rows if limit is None else rows[:limit]
    names = dict(
        Division.objects.filter(pk__in=[r["community"] for r in shown]).values_list("pk", "name")
    )
    return [
        {
            "community": names[r["community"]],
            "expected": r["expected"],
            "came": r["came"],
            "percent": r["percent"],
        }
        for r in shown
    ], len(rows)


def enrolled_communities(user: Any, campaign: Campaign) -> QuerySet[Division]:
    """The campaign's communities that a command or a form may name (by name or code): all of
    them for the server operator (no user), those within the person's reach otherwise, so that
    a name outside it is "not found" and never listed as a match."""
    found = Division.objects.filter(enrollments__campaign=campaign)
    return found if user is None else found.filter(pk__in=authz.divisions_for_user(user))
