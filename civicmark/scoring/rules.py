"""The scoring rules, once, as pure functions over plain values: the reference.

docs/scoring.md says the same in prose. The aggregate queries that compute a whole round (the
assessment issue) must give exactly these results; a property test will hold them to it.

- An item's score combines its assessors' points by the round's rule: mean (default), median or
  minimum, recorded to 0.01.
- A not-applicable item leaves both sides of the fraction:
  total = sum(awarded) / sum(maximum of applicable items) x the standard's total points.
- A category minimum is scaled the same way when some of its items do not apply.
- Outcome: incomplete while an applicable item is unscored; vetoed if any veto finding stands
  (whatever the score); not reached below the threshold or below a category minimum; otherwise a
  standard unit, at the highest award level whose minimum the total reaches.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class Rule(StrEnum):
    MEAN = "mean"
    MEDIAN = "median"
    MINIMUM = "minimum"


class Outcome(StrEnum):
    STANDARD = "standard_unit"
    NOT_REACHED = "not_reached"
    VETOED = "vetoed"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class ItemInput:
    code: str
    category: str
    max_points: Decimal
    points: tuple[Decimal, ...] = ()  # one per assessor who scored it
    not_applicable: bool = False


@dataclass(frozen=True)
class CategoryInput:
    code: str
    points: Decimal
    min_points: Decimal | None = None


@dataclass(frozen=True)
class TableInput:
    total_points: Decimal
    pass_threshold: Decimal
    categories: tuple[CategoryInput, ...]
    levels: tuple[tuple[str, Decimal], ...] = ()  # (name, minimum total)


@dataclass
class Result:
    total: Decimal
    outcome: Outcome
    level: str | None
    category_subtotals: dict[str, Decimal] = field(default_factory=dict)
    categories_below_minimum: list[str] = field(default_factory=list)
    lost: list[tuple[str, Decimal]] = field(default_factory=list)  # (item, points lost)
    unscored: list[str] = field(default_factory=list)
    # For the gap planner: the applicable maximum (the denominator) and, per category with a
    # minimum, the raw points it needs once not-applicable items are left out.
    possible: Decimal = Decimal(0)
    category_needs: dict[str, Decimal] = field(default_factory=dict)


def combine(points: Sequence[Decimal], rule: Rule = Rule.MEAN) -> Decimal:
    """One item's score from its assessors' points, to 0.01 (half up), as it is recorded."""
    if not points:
        raise ValueError("no points to combine")
    if rule == Rule.MINIMUM:
        value = min(points)
    elif rule == Rule.MEDIAN:
        value = Decimal(statistics.median(points))
    else:
        value = sum(points, Decimal(0)) / len(points)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def score(
    table: TableInput, items: Sequence[ItemInput], *, vetoes: int = 0, rule: Rule = Rule.MEAN
) -> Result:
    applicable = [i for i in items if not i.not_applicable]
    unscored = [i.code for i in applicable if not i.points]
    awarded = {i.code: combine(i.points, rule) for i in applicable if i.points}
    possible = sum((i.max_points for i in applicable), Decimal(0))
    gained = sum(awarded.values(), Decimal(0))
    total = (gained / possible * table.total_points) if possible else Decimal(0)
    total = total.quantize(CENT, rounding=ROUND_HALF_UP)
    subtotals = {c.code: Decimal(0) for c in table.categories}
    applicable_max = {c.code: Decimal(0) for c in table.categories}
    for item in applicable:
        applicable_max[item.category] += item.max_points
        subtotals[item.category] += awarded.get(item.code, Decimal(0))
    below = []
    needs = {}
    for cat in table.categories:
        if cat.min_points is None or not applicable_max[cat.code]:
            continue
        needed = cat.min_points * applicable_max[cat.code] / cat.points
        needs[cat.code] = needed
        if subtotals[cat.code] < needed:
            below.append(cat.code)
    if unscored:
        outcome = Outcome.INCOMPLETE
    elif vetoes:
        outcome = Outcome.VETOED
    elif total < table.pass_threshold or below:
        outcome = Outcome.NOT_REACHED
    else:
        outcome = Outcome.STANDARD
    level = None
    if outcome == Outcome.STANDARD:
        reached = [(m, n) for n, m in table.levels if total >= m]
        level = max(reached)[1] if reached else None
    lost = [
        (i.code, i.max_points - awarded[i.code])
        for i in applicable
        if i.code in awarded and awarded[i.code] < i.max_points
    ]
    return Result(
        total=total,
        outcome=outcome,
        level=level,
        category_subtotals={
            k: v.quantize(CENT, rounding=ROUND_HALF_UP) for k, v in subtotals.items()
        },
        categories_below_minimum=below,
        lost=lost,
        unscored=unscored,
        possible=possible,
        category_needs=needs,
    )
