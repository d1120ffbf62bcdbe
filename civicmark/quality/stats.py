"""The statistics of assessor quality as pure functions over plain values (issue 17, ADR 20).

Nothing here reads the database: the calibration page and the drift table hand in numbers, the
tests hand in published worked examples and constructed panels. Values are exact fractions
inside (points are decimals on a 0.5 or 0.1 grid) and leave as `Decimal` or `float`.

- **Krippendorff's alpha** (`alpha`), after Krippendorff, "Computing Krippendorff's
  Alpha-Reliability" (2011): a units x coders matrix with missing values; units with fewer than
  two values are not pairable and drop out; alpha = 1 - D_o / D_e from the coincidences of the
  pairable values. Interval metric (v - v')^2 by default, nominal for the paper's other example.
  When every pairable value is the same there is no variation to agree on: alpha is undefined
  and `alpha` returns None (the page says so instead of printing 1 or 0).
- **Deviation from the panel's median** (`deviations`): per item the median of the panel's
  values; each value's signed and absolute deviation from it, averaged per item and per
  assessor (MAD: mean absolute deviation from the median).
- **Outliers** (`outliers`): the rule stated once, `OUTLIER_RULE`.
- **Drift** (`drift`): per assessor, the mean signed difference between his value and the mean
  of the other assessors' values on the same community-item, over the cells he shares with at
  least one other assessor; with the number of shared cells and a caveat under `FEW_SHARED`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import median
from typing import TypeVar

U = TypeVar("U", bound=Hashable)  # a unit: an item, a community-item
C = TypeVar("C", bound=Hashable)  # a coder: an assessor

Number = Decimal | Fraction | int
Metric = Callable[[Fraction, Fraction], Fraction]

# An assessor is an outlier of a calibration exercise when his mean absolute deviation from
# the panel's median, each item taken as a share of its maximum, is above both this share of
# the maximum and twice the panel's median of those deviations (so a panel that is loose as a
# whole names nobody in particular, and a tight one does not name someone half a step off).
OUTLIER_FLOOR = Fraction(1, 10)
OUTLIER_FACTOR = 2
# Under this many shared items a drift figure rests on too little to act on: the page says so.
FEW_SHARED = 10


def interval(a: Fraction, b: Fraction) -> Fraction:
    """Krippendorff's interval difference: the squared distance."""
    return (a - b) ** 2


def nominal(a: Fraction, b: Fraction) -> Fraction:
    """Krippendorff's nominal difference: 0 for the same value, 1 for any other."""
    return Fraction(0 if a == b else 1)


def _fraction(value: Number) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(value)


def alpha(
    matrix: Mapping[U, Mapping[C, Number | None]], metric: Metric = interval
) -> Fraction | None:
    """Krippendorff's alpha of a units x coders matrix (`matrix[unit][coder]`; a missing coder
    or None is a missing value). None when it is undefined (fewer than two pairable values, or
    no variation among them)."""
    units = [[_fraction(v) for v in row.values() if v is not None] for row in matrix.values()]
    units = [values for values in units if len(values) >= 2]
    pooled = [v for values in units for v in values]
    n = len(pooled)
    if n < 2:
        return None
    # Observed: within each unit, every ordered pair of its m values, weighted 1 / (m - 1).
    observed = sum(
        (
            sum(metric(a, b) for i, a in enumerate(values) for j, b in enumerate(values) if i != j)
            / (len(values) - 1)
            for values in units
        ),
        Fraction(0),
    )
    # Expected: every ordered pair of all pairable values, by value counts (n^2 pairs at most
    # the number of distinct values squared).
    counts: dict[Fraction, int] = defaultdict(int)
    for v in pooled:
        counts[v] += 1
    expected = sum(
        (counts[a] * counts[b] * metric(a, b) for a in counts for b in counts if a != b),
        Fraction(0),
    )
    if expected == 0:
        return None
    return Fraction(1) - Fraction(n - 1) * Fraction(observed) / Fraction(expected)


@dataclass(frozen=True)
class Deviation:
    """Agreement of one item (or one assessor): how many values, the mean absolute deviation
    from the panel's median and the mean signed one (negative: below the median, harsher)."""

    n: int
    mad: Fraction
    signed: Fraction


@dataclass(frozen=True)
class Agreement:
    """A calibration exercise's agreement: the panel's median per item, then per item and per
    assessor their deviations in points, and per assessor his MAD as a share of each item's
    maximum (comparable across items of different maxima: what `outliers` reads)."""

    medians: dict[Hashable, Fraction]
    items: dict[Hashable, Deviation]
    assessors: dict[Hashable, Deviation]
    shares: dict[Hashable, Fraction]


def deviations(
    matrix: Mapping[U, Mapping[C, Number | None]], maxima: Mapping[U, Number] | None = None
) -> Agreement:
    """Deviations from the panel's median. Items with fewer than two values have no panel to
    deviate from and are left out. `maxima` (item -> its maximum) gives the shares; without it
    the shares are in points."""
    medians: dict[Hashable, Fraction] = {}
    per_item: dict[Hashable, Deviation] = {}
    signed_by: dict[Hashable, list[Fraction]] = defaultdict(list)
    share_by: dict[Hashable, list[Fraction]] = defaultdict(list)
    for unit, row in matrix.items():
        values = {c: _fraction(v) for c, v in row.items() if v is not None}
        if len(values) < 2:
            continue
        middle = Fraction(median(values.values()))
        medians[unit] = middle
        gaps = {c: v - middle for c, v in values.items()}
        per_item[unit] = _summary(list(gaps.values()))
        scale = _fraction(maxima[unit]) if maxima and maxima.get(unit) else Fraction(1)
        for coder, gap in gaps.items():
            signed_by[coder].append(gap)
            share_by[coder].append(abs(gap) / scale)
    return Agreement(
        medians=medians,
        items=per_item,
        assessors={c: _summary(gaps) for c, gaps in signed_by.items()},
        shares={c: sum(s, Fraction(0)) / len(s) for c, s in share_by.items()},
    )


def _summary(gaps: list[Fraction]) -> Deviation:
    n = len(gaps)
    return Deviation(
        n=n,
        mad=sum((abs(g) for g in gaps), Fraction(0)) / n,
        signed=sum(gaps, Fraction(0)) / n,
    )


def outliers(shares: Mapping[C, Fraction]) -> list[C]:
    """The assessors whose MAD share is above `OUTLIER_FLOOR` and above `OUTLIER_FACTOR` times
    the panel's median share (the rule stated at the top), the furthest first. A panel of fewer
    than three has no majority to stand out from: nobody is named."""
    if len(shares) < 3:
        return []
    bar = max(OUTLIER_FLOOR, OUTLIER_FACTOR * Fraction(median(shares.values())))
    return sorted((c for c, s in shares.items() if s > bar), key=lambda c: -shares[c])


@dataclass(frozen=True)
class Drift:
    """One assessor against his peers: the mean of (his value - the others' mean) over the
    cells he shares (negative: harsher than his peers), and how many cells that is."""

    n: int
    mean: Fraction

    @property
    def few(self) -> bool:
        return self.n < FEW_SHARED


def drift(cells: Mapping[U, Mapping[C, Number | None]]) -> dict[C, Drift]:
    """Each assessor's drift over the cells (community-items) he scored with at least one other
    assessor. An assessor who shares no cell is absent (no figure without a peer)."""
    diffs: dict[C, list[Fraction]] = defaultdict(list)
    for row in cells.values():
        values = {c: _fraction(v) for c, v in row.items() if v is not None}
        if len(values) < 2:
            continue
        total = sum(values.values(), Fraction(0))
        others = len(values) - 1
        for coder, v in values.items():
            diffs[coder].append(v - (total - v) / others)
    return {c: Drift(n=len(d), mean=sum(d, Fraction(0)) / len(d)) for c, d in diffs.items()}


def shown(value: Fraction | None, places: int = 2) -> Decimal | None:
    """A statistic as shown: half up to two decimals (three for alpha, by `places`)."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        quantum, rounding=ROUND_HALF_UP
    )
