"""A round's results as a table people read: one row per covered community the viewer may see.

The rows come from `round_results` (a fixed number of aggregate queries per round) and one query
for the communities with their town and county, so the cost of a ranking, a dashboard or a
spreadsheet does not grow in queries with the number of communities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.campaigns.models import AcceptanceRound
from civicmark.results.rounds import round_results
from civicmark.results.scoring import Outcome, Result

OUTCOME_LABELS = {
    Outcome.STANDARD: _("Standard unit"),
    Outcome.NOT_REACHED: _("Standard not reached"),
    Outcome.VETOED: _("Vetoed"),
    Outcome.INCOMPLETE: _("Incomplete"),
}
OUTCOME_ORDER = [Outcome.STANDARD, Outcome.NOT_REACHED, Outcome.VETOED, Outcome.INCOMPLETE]


@dataclass
class Row:
    enrollment_id: int
    code: str
    name: str
    town_code: str
    town: str
    county_code: str
    county: str
    result: Result
    rank: int | None = 0  # None: not ranked (vetoed or incomplete)
    subtotals: list[Decimal] = field(default_factory=list)
    vetoes: int = 0  # findings that stand against it

    @property
    def total(self) -> Decimal:
        return self.result.total

    @property
    def outcome(self) -> str:
        return str(self.result.outcome)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[Outcome(self.result.outcome)])

    @property
    def level(self) -> str:
        return self.result.level or ""


def rows_for(round_: AcceptanceRound, user: Any, *, covered_only: bool = True) -> list[Row]:
    """Every covered community of the round within the viewer's scope, ranked by total (ties
    share a rank), with its category subtotals in the standard's order."""
    from civicmark.assessments.models import VetoFinding

    results = round_results(round_)
    categories = list(round_.campaign.standard.categories.values_list("code", flat=True))
    enrollments = round_.campaign.enrollments.filter(
        community__in=authz.divisions_for_user(user)
    ).values_list(
        "pk",
        "community__code",
        "community__name",
        "community__parent__code",
        "community__parent__name",
        "community__parent__parent__code",
        "community__parent__parent__name",
    )
    covered = panels.covered_ids(round_) if covered_only else None
    vetoes = _veto_counts(round_, VetoFinding)
    rows = []
    for pk, code, name, tcode, town, ccode, county in enrollments:
        if covered is not None and pk not in covered:
            continue
        result = results[pk]
        rows.append(
            Row(
                pk,
                code,
                name,
                tcode or "",
                town or "",
                ccode or "",
                county or "",
                result,
                subtotals=[result.category_subtotals.get(c, Decimal(0)) for c in categories],
                vetoes=vetoes.get(pk, 0) if result.outcome == Outcome.VETOED else 0,
            )
        )

    # A vetoed or incomplete community takes no place in the ranking, whatever its points: it
    # follows the ranked ones (vetoed first, then incomplete), each by total.
    def standing(r: Row) -> int:
        return {Outcome.VETOED: 1, Outcome.INCOMPLETE: 2}.get(Outcome(r.result.outcome), 0)

    rows.sort(key=lambda r: (standing(r), -r.total, r.code))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        if standing(row):
            row.rank = None
            continue
        if row.total != previous:
            rank, previous = position, row.total
        row.rank = rank
    return rows


def _veto_counts(round_: AcceptanceRound, model: Any) -> dict[int, int]:
    """Veto findings per community, the earlier round's included where they still stand."""
    from django.db.models import Count

    rounds = [round_.pk]
    earlier = panels.earlier_round(round_)
    if earlier is not None:
        rounds.append(earlier.pk)
    counts: dict[int, int] = {}
    for pk, n in (
        model.objects.filter(round__in=rounds)
        .values("enrollment")
        .annotate(n=Count("id"))
        .values_list("enrollment", "n")
    ):
        counts[pk] = max(counts.get(pk, 0), n)
    return counts


def category_headers(round_: AcceptanceRound) -> list[Any]:
    return list(round_.campaign.standard.categories.all())


SORTS = {
    "rank": lambda r: (r.rank is None, r.rank or 0, r.code),
    "total": lambda r: (r.total, r.code),
    "name": lambda r: (r.name, r.code),
    "town": lambda r: (r.county, r.town, -r.total, r.code),
    "outcome": lambda r: (OUTCOME_ORDER.index(Outcome(r.result.outcome)), -r.total, r.code),
}


def filtered(
    rows: list[Row], *, county: str = "", town: str = "", outcome: str = "", sort: str = "rank"
) -> list[Row]:
    """The rows a ranking shows: filtered by county, town and outcome, sorted by a known key
    ("-" in front reverses it)."""
    chosen = [
        r
        for r in rows
        if (not county or r.county_code == county)
        and (not town or r.town_code == town)
        and (not outcome or r.outcome == outcome)
    ]
    key = sort.lstrip("-")
    if key not in SORTS:
        key, sort = "rank", "rank"
    return sorted(chosen, key=SORTS[key], reverse=sort.startswith("-"))
