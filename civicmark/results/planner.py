"""The gap planner: the fewest items whose recovery lifts a community over the threshold and every
category minimum.

Recovering an item means bringing it back to its maximum. The choice is exact, not a heuristic:
each category below its minimum needs at least k items of its own, and its k largest losses are
the best k (any other choice can be swapped for them without losing points); after those, the
largest remaining losses anywhere lift the total fastest. `tests/test_planner.py` checks this
against a search of every subset on random tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from civicmark.scoring.rules import CENT


@dataclass(frozen=True)
class Loss:
    code: str
    category: str
    points: Decimal  # lost, i.e. what recovering the item brings back


@dataclass(frozen=True)
class Gap:
    """What the community stands at, in raw points over the applicable maximum."""

    gained: Decimal
    possible: Decimal
    total_points: Decimal
    threshold: Decimal
    # category -> (subtotal, the raw points it needs to meet its minimum)
    categories: dict[str, tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class Plan:
    items: tuple[Loss, ...]
    feasible: bool
    projected_total: Decimal


def total_of(gap: Gap, recovered: Decimal) -> Decimal:
    if not gap.possible:
        return Decimal(0)
    value = (gap.gained + recovered) / gap.possible * gap.total_points
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def satisfies(gap: Gap, chosen: Sequence[Loss]) -> bool:
    recovered = sum((c.points for c in chosen), Decimal(0))
    if total_of(gap, recovered) < gap.threshold:
        return False
    for code, (subtotal, needed) in gap.categories.items():
        extra = sum((c.points for c in chosen if c.category == code), Decimal(0))
        if subtotal + extra < needed:
            return False
    return True


def plan(gap: Gap, losses: Sequence[Loss]) -> Plan:
    """The fewest losses to recover; if even all of them are not enough, all of them, marked
    not feasible."""
    ordered = sorted(losses, key=lambda loss: (-loss.points, loss.code))
    chosen: list[Loss] = []
    for code, (subtotal, needed) in sorted(gap.categories.items()):
        have = subtotal
        for loss in ordered:
            if have >= needed:
                break
            if loss.category == code:
                chosen.append(loss)
                have += loss.points
    rest = [loss for loss in ordered if loss not in chosen]
    while not satisfies(gap, chosen) and rest:
        chosen.append(rest.pop(0))
    recovered = sum((c.points for c in chosen), Decimal(0))
    return Plan(tuple(chosen), satisfies(gap, chosen), total_of(gap, recovered))


@dataclass
class PlannedItem:
    item: Any
    points: Decimal
    rectification: Any


@dataclass
class CommunityPlan:
    result: Any
    vetoes: list[Any]
    items: list[PlannedItem]
    feasible: bool
    projected_total: Decimal
    needed: bool


def plan_for(round_: Any, enrollment: Any, result: Any = None) -> CommunityPlan:
    """The plan for one community in one round, with each item's rectification status.

    `result` is the community's item detail when the caller already holds it (the result page);
    the vetoes to clear first are those that stand in the round (`scoring.vetoes`), whichever
    round found them."""
    from civicmark.assessments.models import Rectification
    from civicmark.results.explain import veto_states
    from civicmark.scoring import reader
    from civicmark.scoring.rules import Outcome

    if result is None:
        result = reader.detail(round_, enrollment)
    standard = round_.campaign.standard
    items = {i.code: i for i in standard.items.select_related("category")}
    losses = [Loss(code, items[code].category.code, lost) for code, lost in result.lost]
    gap = Gap(
        gained=result.possible - sum((lost for _c, lost in result.lost), Decimal(0)),
        possible=result.possible,
        total_points=standard.total_points,
        threshold=standard.pass_threshold,
        categories={
            code: (result.category_subtotals.get(code, Decimal(0)), need)
            for code, need in result.category_needs.items()
        },
    )
    chosen = plan(gap, losses)
    fixes = {
        r.item_id: r
        for r in Rectification.objects.filter(
            enrollment=enrollment, round__number__lte=round_.number, item__isnull=False
        ).order_by("round__number")
    }
    vetoes: list[Any] = []
    if result.outcome == Outcome.VETOED:
        vetoes = [v for v in veto_states(round_, enrollment) if v.status.stands]
    return CommunityPlan(
        result=result,
        vetoes=vetoes,
        items=[
            PlannedItem(items[c.code], c.points, fixes.get(items[c.code].pk)) for c in chosen.items
        ],
        feasible=chosen.feasible,
        projected_total=chosen.projected_total,
        needed=result.outcome in (Outcome.NOT_REACHED, Outcome.VETOED),
    )
