"""A whole round's results, with the per-item combination done by the database.

Each item's assessor points are combined in one aggregate query per round (mean, minimum, or a
median written so that SQLite and PostgreSQL compute it alike); the per-community arithmetic
then applies the reference rules in `results.scoring` to those combined rows, so the two paths
cannot drift apart. (Pushing the second step into SQL as well is left for the benchmark work.)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery

from civicmark.assessments.models import Score, VetoFinding
from civicmark.campaigns.models import AcceptanceRound
from civicmark.results.scoring import (
    CENT,
    CategoryInput,
    ItemInput,
    Result,
    Rule,
    TableInput,
    score,
)


def _count(qs: QuerySet[Score]) -> Subquery:
    return Subquery(
        qs.order_by().values("enrollment").annotate(c=Count("id")).values("c"),
        output_field=IntegerField(),
    )


def combined_points(round_: AcceptanceRound, enrollment_id: int | None = None) -> QuerySet[Any]:
    """(enrollment, item, value) for every item with at least one score that is not 'not applicable'."""
    base = Score.objects.filter(round=round_, not_applicable=False)
    if enrollment_id is not None:
        base = base.filter(enrollment_id=enrollment_id)
    rule = Rule(round_.combine_rule)
    if rule == Rule.MEAN:
        return base.values("enrollment", "item").annotate(value=Avg("points"))
    if rule == Rule.MINIMUM:
        return base.values("enrollment", "item").annotate(value=Min("points"))
    # The median is the mean of the distinct values p with at least half of the points <= p and
    # at least half >= p (at most two such values exist), which needs no window functions.
    same = base.filter(enrollment=OuterRef("enrollment"), item=OuterRef("item"))
    qualifying = base.annotate(
        n=_count(same),
        below=_count(same.filter(points__lte=OuterRef("points"))),
        above=_count(same.filter(points__gte=OuterRef("points"))),
    ).filter(Q(below__gte=F("n") / 2.0) & Q(above__gte=F("n") / 2.0))
    return qualifying.values("enrollment", "item").annotate(value=Avg("points", distinct=True))


def item_values(
    round_: AcceptanceRound, enrollment_id: int | None = None
) -> tuple[dict[tuple[int, int], Decimal], set[tuple[int, int]]]:
    """(enrollment, item) -> combined points, and the (enrollment, item) pairs marked not applicable."""
    values = {
        # SQLite averages in floating point: read the value back to the 0.01 it is recorded at.
        (r["enrollment"], r["item"]): Decimal(str(r["value"])).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for r in combined_points(round_, enrollment_id)
    }
    scores = Score.objects.filter(round=round_)
    if enrollment_id is not None:
        scores = scores.filter(enrollment_id=enrollment_id)
    scored = scores.values("enrollment", "item").annotate(
        n=Count("id"), na=Count("id", filter=Q(not_applicable=True))
    )
    return values, {(r["enrollment"], r["item"]) for r in scored if r["n"] == r["na"]}


def _veto_counts(round_: AcceptanceRound) -> dict[int, int]:
    return dict(
        VetoFinding.objects.filter(round=round_)
        .values("enrollment")
        .annotate(n=Count("id"))
        .values_list("enrollment", "n")
    )


def round_results(round_: AcceptanceRound) -> dict[int, Result]:
    """Every covered community's result in this round, keyed by enrollment id."""
    standard = round_.campaign.standard
    table = TableInput(
        total_points=standard.total_points,
        pass_threshold=standard.pass_threshold,
        categories=tuple(
            CategoryInput(c.code, c.points, c.min_points) for c in standard.categories.all()
        ),
        levels=tuple((lv.name, lv.min_score) for lv in standard.levels.all()),
    )
    items = list(
        standard.items.select_related("category").values_list(
            "pk", "code", "category__code", "points"
        )
    )
    values, not_applicable = item_values(round_)
    earlier = None
    if round_.carries_from:
        # Items this round did not re-score keep what the earlier round gave them.
        earlier = round_.campaign.rounds.filter(number=round_.carries_from).first()
        if earlier is not None:
            old_values, old_na = item_values(earlier)
            rescored = set(values) | not_applicable
            values = {**{k: v for k, v in old_values.items() if k not in rescored}, **values}
            not_applicable = not_applicable | {k for k in old_na if k not in rescored}
    vetoes = _veto_counts(round_)
    if round_.carries_from and earlier is not None:
        # A community this round has not looked at yet keeps its earlier vetoes too; one it
        # re-assessed stands on what this round's panel found.
        assessed = set(Score.objects.filter(round=round_).values_list("enrollment", flat=True))
        assessed |= set(vetoes)
        vetoes |= {k: v for k, v in _veto_counts(earlier).items() if k not in assessed}
    results: dict[int, Result] = {}
    by_enrollment: dict[int, list[ItemInput]] = defaultdict(list)
    for enrollment_id in round_.campaign.enrollments.values_list("pk", flat=True):
        for pk, code, category, max_points in items:
            key = (enrollment_id, pk)
            value = values.get(key)
            by_enrollment[enrollment_id].append(
                ItemInput(
                    code,
                    category,
                    max_points,
                    () if value is None else (value,),
                    key in not_applicable,
                )
            )
        results[enrollment_id] = score(
            table, by_enrollment[enrollment_id], vetoes=vetoes.get(enrollment_id, 0)
        )
    return results
