"""The campaign overview's figures, taken off-request for a viewer who sees the whole campaign
(ADR 30, the pattern of ADR 29 through core.snapshots).

At a country's size (110,000 communities) the overview's task progress per phase, per town and
per community were GROUP BYs over every task of the campaign, and its towns were read whole, on
every request. Now `take` runs the very selectors the page runs live (`live`, with no user: the
whole campaign) and stores what the page shows: the counts per phase, the SHOWN towns and
communities with the most overdue work and how many there are, the week's first SHOWN_WEEK due
tasks and their number, the attendance. The page reads that (one row) and the few objects it
names (by primary key). A narrower viewer (a county, a town) counts live: bounded by his own
size.

Behind (an audited write under the campaign's division, or a new day: overdue counts move with
the date), the page says so and asks for a refresh (`refresh_progress`, debounced); the periodic
job `campaigns.progress` retakes whatever is left behind.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django_tasks import task

from civicmark.campaigns import selectors
from civicmark.campaigns.models import Campaign, Enrollment, Phase, ProgressSnapshot, Task
from civicmark.core import snapshots as core_snapshots
from civicmark.divisions.models import Division

SHOWN = 30  # towns, communities and attendance rows named on the overview
SHOWN_WEEK = 20
COUNTS = ("total", "done", "overdue", "percent")
TOTALS = ("towns_total", "communities_total", "week_total", "attendance_total")


def live(user: Any, campaign: Campaign, today: date) -> dict[str, Any]:
    """The overview's figures counted now within the viewer's scope (None: the whole campaign).
    A province's campaign has a thousand towns and ten thousand communities: the page names
    those with the most overdue work (the lowest attendance) and says how many there are."""
    towns = sorted(
        selectors.progress_by_town(user, campaign, today),
        key=lambda t: (-t["overdue"], t["percent"], t["town"].path),
    )
    communities, communities_total = selectors.progress_by_community(
        user, campaign, today, limit=SHOWN
    )
    week = selectors.due_this_week(user, campaign, today).select_related("division")
    attendance, attendance_total = selectors.attendance_rates(user, campaign, limit=SHOWN)
    return {
        "phases": selectors.progress_by_phase(user, campaign, today),
        "towns": towns[:SHOWN],
        "towns_total": len(towns),
        "communities": communities,
        "communities_total": communities_total,
        "week": list(week[:SHOWN_WEEK]),
        "week_total": week.count(),
        "attendance": attendance,
        "attendance_total": attendance_total,
    }


def for_page(
    user: Any, campaign: Campaign, today: date, now: datetime, phases: list[Phase] | None = None
) -> tuple[dict[str, Any], datetime | None, bool]:
    """The figures the overview shows this viewer, as of when (None: counted now), and whether
    they are being refreshed. `phases`: the campaign's, when the page has read them already."""
    if not selectors.sees_whole(user, campaign):
        return live(user, campaign, today), None, False
    snapshot, late = core_snapshots.serve(
        read(campaign),
        is_behind=lambda s: core_snapshots.behind(s, campaign.division.path, now),
        take=lambda: take(campaign),
        ask=lambda: request_refresh(campaign, now),
        at_once=core_snapshots.runs_at_once(refresh_progress),
    )
    if snapshot is None:  # never taken yet, its first refresh queued: counted now, this once
        return live(user, campaign, today), None, False
    return loaded(snapshot.data, phases), snapshot.taken_at, late


# --- the snapshot ------------------------------------------------------------------------------


def read(campaign: Campaign) -> ProgressSnapshot | None:
    memo = campaign.__dict__
    if "_progress" not in memo:
        memo["_progress"] = ProgressSnapshot.objects.filter(campaign=campaign).first()
    found: ProgressSnapshot | None = memo["_progress"]
    return found


def take(campaign: Campaign, now: datetime | None = None) -> ProgressSnapshot:
    """Count the whole campaign now and store it. `taken_at` is the time before the first read,
    so a write committed while this runs leaves the snapshot behind, not wrong."""
    started = now or timezone.now()
    data = stored(live(None, campaign, timezone.localdate(started)))
    snapshot, _created = ProgressSnapshot.objects.update_or_create(
        campaign=campaign, defaults={"taken_at": started, "data": data}
    )
    campaign.__dict__["_progress"] = snapshot
    return snapshot


def request_refresh(campaign: Campaign, now: datetime) -> bool:
    pk = campaign.pk
    return core_snapshots.request_refresh(
        ProgressSnapshot, {"campaign": campaign}, now, lambda: refresh_progress.enqueue(pk)
    )


@task()
def refresh_progress(campaign_id: int) -> str:
    """The task: take the campaign's overview figures now (idempotent; a later one replaces)."""
    campaign = Campaign.objects.filter(pk=campaign_id).select_related("division").first()
    if campaign is None:
        return "gone"
    return str(take(campaign).taken_at)


def retake_behind(now: datetime) -> list[str]:
    """Take again every campaign's overview figures that are behind (or missing)."""
    taken = []
    for campaign in Campaign.objects.select_related("division").order_by("pk"):
        snapshot = read(campaign)
        if snapshot is None or core_snapshots.behind(snapshot, campaign.division.path, now):
            take(campaign, now)
            taken.append(campaign.slug)
    return taken


# --- stored as JSON: the objects by primary key, the counts as they are ------------------------


def _counts(row: dict[str, Any]) -> dict[str, int]:
    return {k: row[k] for k in COUNTS}


def stored(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "phases": [
            {"phase": r["phase"].pk, "current": r["current"], **_counts(r)}
            for r in figures["phases"]
        ],
        "towns": [{"town": r["town"].pk, **_counts(r)} for r in figures["towns"]],
        "communities": [
            {"enrollment": r["enrollment"].pk, **_counts(r)} for r in figures["communities"]
        ],
        "week": [t.pk for t in figures["week"]],
        "attendance": figures["attendance"],
        **{k: figures[k] for k in TOTALS},
    }


def loaded(data: dict[str, Any], known: list[Phase] | None = None) -> dict[str, Any]:
    """The stored figures with the objects they name: one query per kind, SHOWN rows at most.
    A row whose object is gone (a community taken out) is left out until the next refresh."""
    phases = (
        {p.pk: p for p in known}
        if known is not None
        else Phase.objects.in_bulk([r["phase"] for r in data["phases"]])
    )
    towns = Division.objects.in_bulk([r["town"] for r in data["towns"]])
    enrollments = Enrollment.objects.select_related("community").in_bulk(
        [r["enrollment"] for r in data["communities"]]
    )
    week = Task.objects.select_related("division").in_bulk(data["week"])
    return {
        "phases": [
            {**r, "phase": phases[r["phase"]]} for r in data["phases"] if r["phase"] in phases
        ],
        "towns": [{**r, "town": towns[r["town"]]} for r in data["towns"] if r["town"] in towns],
        "communities": [
            {**r, "enrollment": e, "community": e.community}
            for r in data["communities"]
            if (e := enrollments.get(r["enrollment"])) is not None
        ],
        "week": [week[pk] for pk in data["week"] if pk in week],
        "attendance": data["attendance"],
        **{k: data[k] for k in TOTALS},
    }
