"""The scoring rules, once, as pure functions over plain values: the reference (ADR 17).

docs/scoring.md says the same in prose, with a worked example per rule. The aggregate queries
that compute a whole round (`scoring.rounds`) give exactly these results (a property test holds
them to it), and they call `total_of` and `decide` below for each community: the outcome cascade
is written once, here.

- An item's value combines its assessors' points by the round's rule (mean, median, minimum) to
  0.01 half up; an all-or-nothing item takes the majority of 0 and its maximum (a tie gives 0);
  a lead's settlement replaces the combination (a settled N/A makes the item N/A). An item is
  not applicable when every assessor says so.
- Counted items (graded, all-or-nothing, per-occurrence) make the base: gained / possible x the
  standard's total points; an N/A item with rule `exclude` leaves both sides, one with rule
  `full` counts its maximum on both. Bonus and penalty items stay outside the fraction:
  total = max(0, base + min(sum of bonus, bonus cap) + sum of penalties).
- A gate (an item's value strictly below `gate_below`; N/A never trips) vetoes, bars
  commendation or caps the level; a standing veto fails the community or caps its level.
- Outcome: incomplete while an applicable item is unscored; vetoed by a failing veto or gate;
  not reached below the pass mark or a category minimum; else a standard unit.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")
ZERO = Decimal(0)

GRADED = "graded"
ALL_OR_NOTHING = "all_or_nothing"
PER_OCCURRENCE = "per_occurrence"
BONUS = "bonus"
PENALTY = "penalty"
COUNTED = frozenset({GRADED, ALL_OR_NOTHING, PER_OCCURRENCE})

GATE_VETO = "veto"
GATE_NO_COMMENDATION = "no_commendation"
GATE_CAP = "cap"
VETO_FAIL = "fail"
VETO_CAP = "cap"


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
    not_applicable: bool = False  # every assessor said so
    kind: str = GRADED
    na_rule: str = "exclude"  # or "full": counted as full marks when not applicable
    gate_below: Decimal | None = None
    gate_effect: str = ""  # "veto" | "no_commendation" | "cap"
    gate_level: str = ""  # the level a "cap" gate caps at
    # The round lead's settlement: a value that replaces the combination, or N/A.
    settled: Decimal | None = None
    settled_na: bool = False


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
    # (name, minimum total) or (name, minimum total, passing): a band is passing by default.
    levels: tuple[tuple[str, Decimal] | tuple[str, Decimal, bool], ...] = ()
    bonus_cap: Decimal | None = None


@dataclass(frozen=True)
class VetoInput:
    """A veto that stands for the community in the round (found here or earlier, not lifted)."""

    code: str
    effect: str = VETO_FAIL  # "fail" | "cap"
    cap_level: str = ""
    found_in_round: int = 0


@dataclass
class Result:
    total: Decimal
    outcome: Outcome
    level: str | None
    category_subtotals: dict[str, Decimal] = field(default_factory=dict)
    categories_below_minimum: list[str] = field(default_factory=list)
    lost: list[tuple[str, Decimal]] = field(default_factory=list)  # (item, points lost)
    unscored: list[str] = field(default_factory=list)
    # For the gap planner: the applicable maximum of counted items (the denominator) and, per
    # category with a minimum, the raw points it needs once excluded items are left out.
    possible: Decimal = ZERO
    category_needs: dict[str, Decimal] = field(default_factory=dict)
    commendable: bool = False
    gates: list[tuple[str, str]] = field(default_factory=list)  # (item code, effect string)
    vetoes: list[tuple[str, int]] = field(default_factory=list)  # (veto code, found in round)
    bonus: Decimal = ZERO  # the bonus that counted (after the cap)
    penalty: Decimal = ZERO  # the sum of penalties (zero or negative)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def combine(points: Sequence[Decimal], rule: Rule = Rule.MEAN) -> Decimal:
    """One item's score from its assessors' points, to 0.01 (half up), as it is recorded."""
    if not points:
        raise ValueError("no points to combine")
    if rule == Rule.MINIMUM:
        value = min(points)
    elif rule == Rule.MEDIAN:
        value = Decimal(statistics.median(points))
    else:
        value = sum(points, ZERO) / len(points)
    return half_up(value)


def majority(points: Sequence[Decimal], maximum: Decimal) -> Decimal:
    """An all-or-nothing item: its maximum when more than half the assessors gave it, else 0
    (a tie gives 0)."""
    if not points:
        raise ValueError("no points to combine")
    full = sum(1 for p in points if p == maximum)
    return half_up(maximum) if 2 * full > len(points) else half_up(ZERO)


def item_value(item: ItemInput, rule: Rule = Rule.MEAN) -> Decimal | None:
    """The item's value (None when not applicable or unscored)."""
    if item.settled_na:
        return None
    if item.settled is not None:
        return half_up(item.settled)
    if item.not_applicable or not item.points:
        return None
    if item.kind == ALL_OR_NOTHING:
        return majority(item.points, item.max_points)
    return combine(item.points, rule)


def is_na(item: ItemInput) -> bool:
    if item.settled_na:
        return True
    return item.settled is None and item.not_applicable


def total_of(
    gained: Decimal,
    possible: Decimal,
    total_points: Decimal,
    bonus: Decimal = ZERO,
    penalty: Decimal = ZERO,
    bonus_cap: Decimal | None = None,
) -> tuple[Decimal, Decimal]:
    """(total, the bonus that counted): max(0, base + min(bonus, cap) + penalty), the base
    being gained / possible x total points, half up to 0.01."""
    base = half_up(gained / possible * total_points) if possible else ZERO
    counted_bonus = bonus if bonus_cap is None else min(bonus, bonus_cap)
    return max(ZERO, base + counted_bonus + penalty), counted_bonus


def gate_effect(effect: str, level: str) -> str:
    """The effect string of a gate: "veto", "no_commendation" or "cap:LEVEL"."""
    return f"{GATE_CAP}:{level}" if effect == GATE_CAP else effect


def trips(value: Decimal | None, below: Decimal | None, effect: str) -> bool:
    """A gate trips on a value strictly below its threshold; N/A and unscored never trip."""
    return bool(effect) and below is not None and value is not None and value < below


@functools.lru_cache(maxsize=64)
def _bands(
    levels: tuple[tuple[str, Decimal] | tuple[str, Decimal, bool], ...],
) -> tuple[tuple[Decimal, str, bool], ...]:
    """(minimum, name, passing) by minimum (once per table, not once per community)."""
    out = []
    for band in levels:
        passing = bool(band[2]) if len(band) > 2 else True  # type: ignore[misc]
        out.append((band[1], band[0], passing))
    return tuple(sorted(out, key=lambda b: b[0]))


def decide(
    table: TableInput,
    total: Decimal,
    *,
    incomplete: bool,
    below: Sequence[str] = (),
    gates: Sequence[str] = (),
    vetoes: Sequence[VetoInput] = (),
) -> tuple[Outcome, str | None, bool]:
    """(outcome, level, commendable) of one community: the cascade, written once.

    `gates` are the effect strings of the gates that tripped; `vetoes` the vetoes that stand.
    """
    # Written for speed as well as clarity: the round's SQL path calls this per community.
    if incomplete:
        return Outcome.INCOMPLETE, None, False
    if (vetoes and any(v.effect != VETO_CAP for v in vetoes)) or (gates and GATE_VETO in gates):
        outcome = Outcome.VETOED
    elif total < table.pass_threshold or below:
        outcome = Outcome.NOT_REACHED
    else:
        outcome = Outcome.STANDARD
    bands = _bands(table.levels)
    level: str | None = None
    if outcome == Outcome.STANDARD:
        reached = next((b for b in reversed(bands) if b[2] and total >= b[0]), None)
        if reached is not None and (gates or vetoes):
            caps = {g.split(":", 1)[1] for g in gates if g.startswith(GATE_CAP + ":")}
            caps |= {v.cap_level for v in vetoes if v.effect == VETO_CAP}
            lowest = next((b for b in bands if b[1] in caps), None)
            if lowest is not None and lowest[0] < reached[0]:
                reached = lowest
        level = reached[1] if reached is not None else None
    elif outcome == Outcome.VETOED:
        level = next((b[1] for b in bands if not b[2]), None)
    else:
        level = next((b[1] for b in reversed(bands) if not b[2] and total >= b[0]), None)
    commendable = outcome == Outcome.STANDARD and GATE_NO_COMMENDATION not in gates
    return outcome, level, commendable


def _vetoes(vetoes: int | Sequence[VetoInput]) -> list[VetoInput]:
    if isinstance(vetoes, int):
        return [VetoInput(f"veto{n + 1}") for n in range(vetoes)]
    return list(vetoes)


def score(
    table: TableInput,
    items: Sequence[ItemInput],
    *,
    vetoes: int | Sequence[VetoInput] = 0,
    rule: Rule = Rule.MEAN,
) -> Result:
    """A community's result from its items' points (a number of vetoes counts as that many
    failing vetoes)."""
    standing = _vetoes(vetoes)
    values = {i.code: item_value(i, rule) for i in items}
    na = {i.code for i in items if is_na(i)}
    unscored = [i.code for i in items if i.code not in na and values[i.code] is None]
    subtotals = {c.code: ZERO for c in table.categories}
    possible_of = {c.code: ZERO for c in table.categories}
    gained = possible = bonus = penalty = ZERO
    lost: list[tuple[str, Decimal]] = []
    gates: list[tuple[str, str]] = []
    for item in items:
        value = values[item.code]
        if item.kind in COUNTED:
            if item.code in na:
                if item.na_rule == "full":
                    value = item.max_points
                else:
                    continue
            possible += item.max_points
            possible_of[item.category] += item.max_points
            if value is not None:
                gained += value
                if value < item.max_points:
                    lost.append((item.code, item.max_points - value))
        elif value is not None and item.kind == BONUS:
            bonus += value
        elif value is not None and item.kind == PENALTY:
            penalty += value
            if value < 0:
                lost.append((item.code, -value))
        if value is not None:
            subtotals[item.category] += value
        if item.code not in na and trips(values[item.code], item.gate_below, item.gate_effect):
            gates.append((item.code, gate_effect(item.gate_effect, item.gate_level)))
    total, counted_bonus = total_of(
        gained, possible, table.total_points, bonus, penalty, table.bonus_cap
    )
    below, needs = minimums(table, subtotals, possible_of)
    outcome, level, commendable = decide(
        table,
        total,
        incomplete=bool(unscored),
        below=below,
        gates=[g for _c, g in gates],
        vetoes=standing,
    )
    return Result(
        total=total,
        outcome=outcome,
        level=level,
        category_subtotals={k: half_up(v) for k, v in subtotals.items()},
        categories_below_minimum=below,
        lost=lost,
        unscored=unscored,
        possible=possible,
        category_needs=needs,
        commendable=commendable,
        gates=gates,
        vetoes=[(v.code, v.found_in_round) for v in standing],
        bonus=counted_bonus,
        penalty=penalty,
    )


def minimums(
    table: TableInput, subtotals: dict[str, Decimal], possible_of: dict[str, Decimal]
) -> tuple[list[str], dict[str, Decimal]]:
    """The categories below their minimum, and what each category with a minimum needs."""
    needs = needs_of(table, possible_of)
    return below_minimum(subtotals, needs), needs


def needs_of(table: TableInput, possible_of: dict[str, Decimal]) -> dict[str, Decimal]:
    """What each category with a minimum needs: the minimum scaled by the share of its counted
    maximum still in the fraction. (Apart from `below_minimum`: a round works it out once for
    every community that marked nothing not applicable.)"""
    needs: dict[str, Decimal] = {}
    for cat in table.categories:
        if cat.min_points is None or not possible_of.get(cat.code) or not cat.points:
            continue
        needs[cat.code] = cat.min_points * possible_of[cat.code] / cat.points
    return needs


def below_minimum(subtotals: dict[str, Decimal], needs: dict[str, Decimal]) -> list[str]:
    """The categories whose subtotal is below what they need, in the table's order."""
    return [code for code, needed in needs.items() if subtotals.get(code, ZERO) < needed]
