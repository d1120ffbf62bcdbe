"""The one reader of results (ADR 17): every page, export and dashboard reads the stored result;
the result page asks for one community's item detail, computed by the reference rules."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from civicmark.campaigns.models import AcceptanceRound
from civicmark.scoring import materialize
from civicmark.scoring.models import CommunityResult, Score
from civicmark.scoring.rounds import round_results
from civicmark.scoring.rules import Result


def stored(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None
) -> QuerySet[CommunityResult]:
    """The round's stored results (brought up to date first), of the given communities or all."""
    materialize.current(round_)
    rows = CommunityResult.objects.filter(round=round_)
    if enrollment_ids is not None:
        rows = rows.filter(enrollment_id__in=list(enrollment_ids))
    return rows


def stored_in(rounds: Iterable[AcceptanceRound]) -> QuerySet[CommunityResult]:
    """The stored results of several rounds in one query (each round brought up to date first;
    pass the round objects the request already holds, which remember that they are current)."""
    chosen = list(rounds)
    for round_ in chosen:
        materialize.current(round_)
    return CommunityResult.objects.filter(round__in=[r.pk for r in chosen])


def detail(round_: AcceptanceRound, enrollment: Any) -> Result:
    """One community's full result by the reference rules: every lost point, unscored item,
    tripped gate and standing veto. `enrollment` is an Enrollment or its id."""
    pk = getattr(enrollment, "pk", enrollment)
    return round_results(round_, enrollments=[pk])[pk]


def points_by_assessor(round_: AcceptanceRound) -> dict[tuple[int, int], dict[int, Decimal]]:
    """Each assessor's own points in the round, per (enrollment id, item id), for the items two
    or more assessors gave points to (not applicable left out): what comparing assessors with
    one another reads (issue 17's drift). Raw entries, not combined values: combining them is
    `rounds`' work alone. Two queries however large the round."""
    shared = (
        Score.objects.filter(round=round_, not_applicable=False)
        .order_by()
        .values("enrollment_id", "item_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
    )
    keys = {(g["enrollment_id"], g["item_id"]) for g in shared}
    cells: dict[tuple[int, int], dict[int, Decimal]] = {}
    if not keys:
        return cells
    rows = Score.objects.filter(
        round=round_,
        not_applicable=False,
        enrollment_id__in={e for e, _i in keys},
        item_id__in={i for _e, i in keys},
    ).values_list("enrollment_id", "item_id", "assessor_id", "points")
    for enrollment_id, item_id, assessor_id, points in rows:
        if (enrollment_id, item_id) in keys:
            cells.setdefault((enrollment_id, item_id), {})[assessor_id] = points
    return cells
