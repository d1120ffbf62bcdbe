"""A round's results as tables people read, from the stored results (`CommunityResult`).

Everything here is a query over one indexed table joined to the communities the viewer may see:
a ranking page sorts, filters and pages in the database and reads 50 rows; an export reads every
row once. The number of queries never depends on the number of communities.

A rank is a community's place in the whole round, counted over every ranked community of the
campaign, whoever looks: a town's officer sees his communities with the ranks the city gives
them, not their places among themselves (issue 16). Only the ranks cross the viewer's scope,
never another community's name or total.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.workflow import State
from civicmark.campaigns.models import AcceptanceRound
from civicmark.scoring.models import CommunityResult
from civicmark.scoring.rules import Outcome

OUTCOME_LABELS = {
    Outcome.STANDARD: _("Standard unit"),
    Outcome.NOT_REACHED: _("Standard not reached"),
    Outcome.VETOED: _("Vetoed"),
    Outcome.INCOMPLETE: _("Incomplete"),
}
OUTCOME_ORDER = [Outcome.STANDARD, Outcome.NOT_REACHED, Outcome.VETOED, Outcome.INCOMPLETE]
FIELDS = (
    "enrollment_id",
    "rank",
    "total",
    "outcome",
    "level",
    "subtotals",
    "commendable",
    "gates",
    "vetoes",
    "enrollment__community__code",
    "enrollment__community__name",
    "enrollment__community__parent__code",
    "enrollment__community__parent__name",
    "enrollment__community__parent__parent__code",
    "enrollment__community__parent__parent__name",
    "enrollment__status",
)
# The workflow states that take back what a round's "standard unit" gave (an objection upheld on
# its notice: rectifying; its title withdrawn): a standard unit in one of them shows where it
# stands now beside the round's finding. (A community the city has not moved yet, still
# "reported", is not told anything new.)
TAKEN_BACK = (State.RECTIFYING, State.TITLE_WITHDRAWN)


@dataclass
class Row:
    enrollment_id: int
    code: str
    name: str
    town_code: str
    town: str
    county_code: str
    county: str
    total: Decimal
    outcome: str
    level: str
    rank: int | None = None  # None: not ranked (vetoed or incomplete)
    subtotals: list[Decimal] = field(default_factory=list)
    vetoes: int = 0  # vetoes that stand against it in this round, whichever round found them
    commendable: bool = False
    gates: list[dict[str, str]] = field(default_factory=list)  # [{"item", "effect"}] tripped
    status: str = ""  # the community's workflow state now

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[Outcome(self.outcome)])

    @property
    def now_label(self) -> str:
        return now_label(self.outcome, self.status)


def now_label(outcome: str, status: str) -> str:
    """Where the community stands now when the round's "standard unit" no longer names it (an
    objection upheld on its notice, its title withdrawn: ADR 20, 22), else "": the ranking and
    the result page show it beside the round's finding."""
    if outcome != Outcome.STANDARD or status not in TAKEN_BACK:
        return ""
    return str(State(status).label)


def category_headers(round_: AcceptanceRound) -> list[Any]:
    return list(round_.campaign.standard.categories.all())


def results_for(
    round_: AcceptanceRound, user: Any, *, covered_only: bool = True
) -> QuerySet[CommunityResult]:
    """The stored results of the round the viewer may see (made current first if missing)."""
    from civicmark.scoring.materialize import current

    current(round_)
    rows = CommunityResult.objects.filter(
        authz.within_scope(user, "enrollment__community__path"), round=round_
    )
    if covered_only:
        rows = rows.filter(panels.covered_results_q(round_))
    return rows


# Vetoed, then incomplete, come after every ranked community; ranks count the ranked ones only.
STANDING = Case(
    When(outcome=Outcome.VETOED, then=Value(1)),
    When(outcome=Outcome.INCOMPLETE, then=Value(2)),
    default=Value(0),
    output_field=IntegerField(),
)
ORDERS = {
    "rank": ("standing", "-total", "enrollment__community__code"),
    "name": ("enrollment__community__name", "enrollment__community__code"),
    "town": (
        "enrollment__community__parent__parent__code",
        "enrollment__community__parent__code",
        "standing",
        "-total",
        "enrollment__community__code",
    ),
    "outcome": ("outcome_order", "-total", "enrollment__community__code"),
}


def ranked(
    round_: AcceptanceRound,
    user: Any,
    *,
    county: str = "",
    town: str = "",
    outcome: str = "",
    sort: str = "rank",
    placed: bool = False,
) -> QuerySet[CommunityResult]:
    """The ranking as a query: filtered and ordered by the database; `to_rows` gives each row its
    rank in the whole round (ties share a rank), whatever the viewer's scope or the filter.
    `placed`: order by the places the campaign's figures snapshot stored (ADR 29)."""
    rows = results_for(round_, user)
    if county:
        rows = rows.filter(enrollment__community__parent__parent__code=county)
    if town:
        rows = rows.filter(enrollment__community__parent__code=town)
    if outcome:
        rows = rows.filter(outcome=outcome)
    key = sort.lstrip("-")
    if key not in ORDERS:
        key, sort = "rank", "rank"
    if key == "rank" and placed:
        # The snapshot's places (ADR 29): the page reads its rows by index, not by sorting the
        # round; a row placed after the snapshot (none yet) comes last.
        way = "desc" if sort.startswith("-") else "asc"
        return rows.order_by(
            getattr(F("position"), way)(nulls_last=True), "enrollment__community__code"
        )
    rows = rows.annotate(
        standing=STANDING,
        outcome_order=Case(
            *[When(outcome=o.value, then=Value(i)) for i, o in enumerate(OUTCOME_ORDER)],
            output_field=IntegerField(),
        ),
    )
    order = ORDERS[key]
    if sort.startswith("-"):
        order = tuple(o[1:] if o.startswith("-") else f"-{o}" for o in order)
    return rows.order_by(*order)


def ranked_totals(round_: AcceptanceRound) -> list[Decimal]:
    """The totals of every ranked community of the round (covered, neither vetoed nor
    incomplete) in the whole campaign, lowest first: one query per round and request."""
    memo = round_.__dict__
    if "_ranked_totals" not in memo:
        from civicmark.results.snapshots import ranked_rows
        from civicmark.scoring import reader

        reader.stored(round_)  # made current first
        memo["_ranked_totals"] = list(
            ranked_rows(round_).order_by("total").values_list("total", flat=True)
        )
    return memo["_ranked_totals"]


def rank_in(totals: list[Decimal], total: Decimal) -> int:
    """1 + the number of ranked totals above this one (`totals` lowest first): ties share."""
    return 1 + len(totals) - bisect_right(totals, total)


def as_values(results: QuerySet[CommunityResult]) -> QuerySet[Any]:
    """The columns a Row needs, as a query one may still page."""
    return results.values(*FIELDS)


def to_rows(round_: AcceptanceRound, values: Any, *, stored_ranks: bool = False) -> list[Row]:
    """Rows for display or export from `as_values` of stored results (or a page of it). Ranks
    are counted over the whole round now, or (`stored_ranks`, a page that says "as of") read
    from the figures snapshot's `rank` (ADR 29)."""
    codes = list(round_.campaign.standard.categories.values_list("code", flat=True))
    items = list(values)
    totals = ranked_totals(round_) if items and not stored_ranks else []
    rows = []
    for r in items:
        subtotals = r["subtotals"] or {}
        rows.append(
            Row(
                enrollment_id=r["enrollment_id"],
                code=r["enrollment__community__code"],
                name=r["enrollment__community__name"],
                town_code=r["enrollment__community__parent__code"] or "",
                town=r["enrollment__community__parent__name"] or "",
                county_code=r["enrollment__community__parent__parent__code"] or "",
                county=r["enrollment__community__parent__parent__name"] or "",
                total=r["total"],
                outcome=r["outcome"],
                level=r["level"],
                rank=(r["rank"] if stored_ranks else rank_in(totals, r["total"]))
                if _ranks(r)
                else None,
                subtotals=[Decimal(subtotals.get(c, "0")) for c in codes],
                vetoes=len(r.get("vetoes") or []),
                commendable=bool(r.get("commendable")),
                gates=list(r.get("gates") or []),
                status=r.get("enrollment__status") or "",
            )
        )
    return rows


def _ranks(r: dict[str, Any]) -> bool:
    return r["outcome"] not in (Outcome.VETOED, Outcome.INCOMPLETE)
