"""A campaign's whole-scope figures, taken off-request (ADR 29).

At a country's size (110,000 communities) anything that reads a whole round per request grows
with N: the ranking read every ranked total to place 50 rows, the dashboard grouped every
stored result, task and rectification. Instead, `take` computes once, by the same code the
pages ran per request:

- every round's stored results brought current (`scoring.materialize`), then each row's `rank`
  (among the covered, ranked communities; ties share) and `position` (the ranking's default
  order over the whole round) in one UPDATE per round, so a ranking page reads its 50 rows by
  index;
- what the ranking page counts (communities per outcome, the ranked ones, the counties and
  towns to filter by);
- the dashboard's key figures and charts for a viewer who sees the whole campaign, in every
  language of the site.

A page serves the snapshot to a viewer whose scope covers the whole campaign (a narrower scope
is bounded by its own size and stays live), says "as of <time>", and says that it is being
refreshed when the snapshot is *behind*: an audited write under the campaign's division since it
was taken (every write that matters writes its audit event, ADR 2; downloads only read), or a
new day (overdue counts move with the date). A behind page asks for a refresh: a task on
Django's task framework, debounced to one queued at a time; the periodic job `results.figures`
catches any left behind. After a refresh the pages equal a recomputation (tests hold them so).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import Rank, RowNumber
from django.utils import timezone, translation
from django_tasks import task

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.core.models import AuditEvent
from civicmark.core.replicas import primary
from civicmark.results.models import FiguresSnapshot
from civicmark.scoring import reader
from civicmark.scoring.models import CommunityResult
from civicmark.scoring.rules import Outcome

# A queued refresh not done after this long is taken as lost (a worker stopped): ask again.
LOST_AFTER = timedelta(minutes=5)
# Past this many, a filter is typed as a code rather than chosen from a list (ADR 11).
CHOICES_SHOWN = 300
# Audit actions that change nothing the figures count.
READS_ONLY = ("report.downloaded",)


# --- reading ---------------------------------------------------------------------------------


def read(campaign: Campaign) -> FiguresSnapshot | None:
    """The campaign's snapshot (one query, kept on the campaign object for the request)."""
    memo = campaign.__dict__
    if "_figures" not in memo:
        memo["_figures"] = FiguresSnapshot.objects.filter(campaign=campaign).first()
    found: FiguresSnapshot | None = memo["_figures"]
    return found


def sees_whole(user: Any, campaign: Campaign) -> bool:
    """Whether the viewer's scope holds every community of the campaign (then the whole-scope
    snapshot is exactly what his own queries would count)."""
    return authz.sees_all_under(user, campaign.division.path)


def behind(campaign: Campaign, snapshot: FiguresSnapshot, now: datetime) -> bool:
    """Something was written under the campaign's division since the snapshot was taken, or the
    day has changed: one indexed query (audit events since then)."""
    if snapshot.taken_at is None:
        return True
    if timezone.localdate(snapshot.taken_at) < timezone.localdate(now):
        return True
    # Asked of the primary where the page reads from a replica (ADR 27): a replica a moment
    # behind would not yet hold the write that makes the snapshot behind.
    with primary():
        return (
            AuditEvent.objects.filter(
                at__gt=snapshot.taken_at, scope_path__startswith=campaign.division.path
            )
            .exclude(action__in=READS_ONLY)
            .exists()
        )


def serve(campaign: Campaign, user: Any, now: datetime) -> tuple[FiguresSnapshot | None, bool]:
    """The snapshot a page may read (None: count live) and whether it is behind. A missing or
    behind snapshot is refreshed off-request (debounced); where tasks run at once (the immediate
    backend: tests, or one machine without a worker) it is taken before the page reads it."""
    snapshot = read(campaign)
    late = (
        snapshot is not None and snapshot.taken_at is not None and behind(campaign, snapshot, now)
    )
    if snapshot is not None and snapshot.taken_at is not None and not late:
        return snapshot, False
    if _inline():
        return take(campaign), False
    request_refresh(campaign, now)
    if snapshot is None or snapshot.taken_at is None:
        return None, False
    return snapshot, True


def _inline() -> bool:
    from django_tasks.backends.immediate import ImmediateBackend

    return isinstance(refresh_figures.get_backend(), ImmediateBackend)


def round_figures(snapshot: FiguresSnapshot | None, round_: AcceptanceRound) -> dict[str, Any]:
    if snapshot is None:
        return {}
    found: dict[str, Any] = snapshot.data.get("rounds", {}).get(str(round_.number), {})
    return found


def dashboard_page(snapshot: FiguresSnapshot | None, language: str) -> dict[str, Any] | None:
    """The dashboard as the snapshot holds it in this language (the site's default language
    when it has not this one), with `taken_at` and `latest_scored`; None when there is none."""
    if snapshot is None or snapshot.taken_at is None:
        return None
    pages: dict[str, Any] = snapshot.data.get("dashboard", {})
    found = pages.get(language) or pages.get(settings.LANGUAGE_CODE)
    if found is None:
        return None
    return {
        **found,
        "taken_at": snapshot.taken_at,
        "latest_scored": snapshot.data.get("latest_scored"),
    }


# --- asking for a refresh --------------------------------------------------------------------


def request_refresh(campaign: Campaign, now: datetime) -> bool:
    """Queue one refresh unless one is queued already (and not lost). Returns whether queued."""
    waiting = Q(taken_at__isnull=True) | Q(queued_at__gt=F("taken_at"))
    if FiguresSnapshot.objects.filter(
        waiting, campaign=campaign, queued_at__gt=now - LOST_AFTER
    ).exists():
        return False
    _row, created = FiguresSnapshot.objects.get_or_create(
        campaign=campaign, defaults={"queued_at": now}
    )
    if not created:
        FiguresSnapshot.objects.filter(campaign=campaign).update(queued_at=now)
    pk = campaign.pk
    transaction.on_commit(lambda: refresh_figures.enqueue(pk))
    return True


@task()
def refresh_figures(campaign_id: int) -> str:
    """The task: take the campaign's snapshot now (idempotent; a later one only replaces it)."""
    campaign = Campaign.objects.filter(pk=campaign_id).select_related("division").first()
    if campaign is None:
        return "gone"
    return str(take(campaign).taken_at)


# --- taking ----------------------------------------------------------------------------------


def take(campaign: Campaign, now: datetime | None = None) -> FiguresSnapshot:
    """Compute the whole-scope figures now and store them. `taken_at` is the time before the
    first read, so a write committed while this runs leaves the snapshot behind, not wrong."""
    started = now or timezone.now()
    rounds = list(campaign.rounds.order_by("number"))
    for round_ in rounds:
        reader.stored(round_)  # stale communities recomputed first
        place(round_)
    data = {
        "latest_scored": latest_scored(campaign),
        "rounds": {str(r.number): _ranking_figures(r) for r in rounds},
        "dashboard": _dashboards(campaign, rounds, timezone.localdate(started)),
    }
    snapshot, _created = FiguresSnapshot.objects.update_or_create(
        campaign=campaign, defaults={"taken_at": started, "data": data}
    )
    campaign.__dict__["_figures"] = snapshot
    return snapshot


def latest_scored(campaign: Campaign) -> int | None:
    """The number of the latest round anyone has scored in."""
    from civicmark.scoring.models import Score

    found: int | None = (
        Score.objects.filter(round__campaign=campaign)
        .order_by("-round__number")
        .values_list("round__number", flat=True)
        .first()
    )
    return found


PLACE_SQL = (
    "UPDATE {table} SET rank = s.r, position = s.p FROM ("
    "SELECT a.id AS id, a.p AS p, b.r AS r FROM ({positions}) a LEFT JOIN ({ranks}) b "
    "ON a.id = b.id) s WHERE {table}.id = s.id "
    "AND ({table}.rank IS DISTINCT FROM s.r OR {table}.position IS DISTINCT FROM s.p)"
)


def ranked_rows(round_: AcceptanceRound) -> Any:
    """The rows that take a rank: covered, neither vetoed nor incomplete (one rule, used by the
    snapshot and by the live fallback alike)."""
    return (
        CommunityResult.objects.filter(round=round_)
        .filter(panels.covered_results_q(round_))
        .exclude(outcome__in=[Outcome.VETOED, Outcome.INCOMPLETE])
    )


def place(round_: AcceptanceRound) -> None:
    """Every row's rank and position in the round, computed by the database (window functions)
    and written where they changed: one statement, on SQLite and PostgreSQL alike."""
    from civicmark.results.summary import STANDING

    ranks = ranked_rows(round_).annotate(r=Window(Rank(), order_by=F("total").desc()))
    positions = (
        CommunityResult.objects.filter(round=round_)
        .annotate(standing=STANDING)
        .annotate(
            p=Window(
                RowNumber(),
                order_by=[F("standing").asc(), F("total").desc(), F("enrollment__community__code")],
            )
        )
    )
    rank_sql, rank_params = ranks.values("id", "r").query.sql_with_params()
    pos_sql, pos_params = positions.values("id", "p").query.sql_with_params()
    sql = PLACE_SQL.format(
        table=connection.ops.quote_name(CommunityResult._meta.db_table),
        positions=pos_sql,
        ranks=rank_sql,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*pos_params, *rank_params])


def _ranking_figures(round_: AcceptanceRound) -> dict[str, Any]:
    from django.db.models import Count

    covered = CommunityResult.objects.filter(round=round_).filter(panels.covered_results_q(round_))
    per_outcome = dict(covered.order_by().values_list("outcome").annotate(n=Count("id")))
    counties = choices(covered, "enrollment__community__parent__parent")
    towns = choices(covered, "enrollment__community__parent")
    from civicmark.results.dashboards import campaign_averages

    categories = list(round_.campaign.standard.categories.all())
    averages = campaign_averages(round_, categories)
    return {
        "averages": {c.code: str(a) for c, a in zip(categories, averages, strict=True)},
        "count": {"": sum(per_outcome.values()), **per_outcome},
        "ranked": ranked_rows(round_).count(),
        "counties": counties,
        "towns": towns,
    }


def choices(rows: Any, division: str) -> dict[str, Any]:
    """The divisions to filter by: their number, and the list itself while it is short."""
    found = rows.values(f"{division}__code").distinct()
    n = found.count()
    shown = None
    if n <= CHOICES_SHOWN:
        shown = sorted(rows.values_list(f"{division}__code", f"{division}__name").distinct())
    return {"n": n, "shown": [list(c) for c in shown] if shown is not None else None}


def _dashboards(campaign: Campaign, rounds: list[AcceptanceRound], today: date) -> dict[str, Any]:
    from civicmark.results import dashboards, figures

    pages: dict[str, Any] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            shared = dashboards.shared_charts(None, campaign, rounds, today)
            pages[code] = {
                "figures": [asdict(f) for f in figures.key_figures(None, campaign, rounds, today)],
                "shared": {k: [_stored(c) for c in v] for k, v in shared.items()},
                "scores": {
                    str(r.number): [_stored(c) for c in dashboards.score_charts(None, rounds, r)]
                    for r in rounds
                },
            }
    return pages


def _stored(chart: Any) -> dict[str, Any]:
    """A chart as the page shows it: every row of a long one (`all_rows`, 110,000 communities)
    is for the CSV, which is counted live."""
    return plain({**asdict(chart), "all_rows": None})


# --- JSON with Decimals kept ------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Decimals as {"$d": "12.50"} (shown as the page shows them), the rest as JSON has it."""
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def unplain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$d"}:
            return Decimal(value["$d"])
        return {k: unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unplain(v) for v in value]
    return value
