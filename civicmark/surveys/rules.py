"""The survey's rules as pure functions: the draw, the rate or mean, the interval and the bands.
Exact arithmetic (fractions) wherever a boundary decides points: 48 of 60 is exactly 80%."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError


def draw(
    frame: Sequence[int], sample: int, reserve: int, seed: str, method: str
) -> tuple[list[int], list[int]]:
    """The sample and the ordered reserve list from a frame (household ids in frame order).

    The same frame, seed and method always give the same households: the generator is seeded from
    a hash of the seed text, and nothing else varies. Simple random: a shuffle, the first `sample`
    drawn, the next `reserve` in order. Systematic: interval k = N / sample from a random start;
    the reserve is the households halfway between the sampled ones, then a shuffle of the rest."""
    if method not in ("simple", "systematic"):
        raise ApplicationError(_("Unknown sampling method “%s”.") % method)
    n = len(frame)
    if n == 0:
        raise ApplicationError(_("The community's household list is empty."))
    # Reproducible by design: anyone with the stored seed can redo the draw. The seed itself is
    # made with `secrets`, so no one can choose the households in advance.
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))  # noqa: S311
    if sample >= n:
        return list(frame), []
    if method == "simple":
        order = list(frame)
        rng.shuffle(order)
        return order[:sample], order[sample : sample + reserve]
    step = Fraction(n, sample)
    start = Fraction(rng.random()).limit_denominator(10**6) * step
    picked = [int(start + i * step) for i in range(sample)]
    taken = set(picked)
    halfway = [int(start + i * step + step / 2) % n for i in range(sample)]
    reserve_idx: list[int] = []
    for i in halfway:
        if i not in taken and i not in reserve_idx:
            reserve_idx.append(i)
    rest = [i for i in range(n) if i not in taken and i not in reserve_idx]
    rng.shuffle(rest)
    reserve_idx = (reserve_idx + rest)[:reserve]
    return [frame[i] for i in picked], [frame[i] for i in reserve_idx]


@dataclass(frozen=True)
class Figure:
    valid: int  # answers in the denominator
    excluded: int  # "don't know" and the like, left out by the rule
    value: Fraction | None  # the rate (0-1) or the weighted mean (0-100)
    low: float | None  # 95% interval, same unit as `value`
    high: float | None

    def percent(self, method: str) -> Decimal | None:
        if self.value is None:
            return None
        v = self.value * 100 if method == "rate" else self.value
        return (Decimal(v.numerator) / Decimal(v.denominator)).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )


def rate(answers: Sequence[str], satisfied: Sequence[str], excluded: Sequence[str]) -> Figure:
    """Satisfied ÷ valid answers, with the Wilson 95% interval."""
    valid = [a for a in answers if a not in excluded]
    n = len(valid)
    if n == 0:
        return Figure(0, len(answers) - n, None, None, None)
    k = sum(a in satisfied for a in valid)
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Figure(n, len(answers) - n, Fraction(k, n), 100 * (centre - half), 100 * (centre + half))


def mean(answers: Sequence[str], weights: dict[str, Any], excluded: Sequence[str]) -> Figure:
    """The mean of the answers' weights (0-100), with a normal 95% interval."""
    values = [Fraction(str(weights[a])) for a in answers if a not in excluded and a in weights]
    n = len(values)
    if n == 0:
        return Figure(0, len(answers), None, None, None)
    m = sum(values, Fraction(0)) / n
    if n > 1:
        var = sum((float(v) - float(m)) ** 2 for v in values) / (n - 1)
        half = 1.96 * math.sqrt(var / n)
    else:
        half = 0.0
    return Figure(n, len(answers) - n, m, float(m) - half, float(m) + half)


def _bound(raw: Any) -> Fraction | None:
    return None if raw is None or raw == "" else Fraction(str(raw))


def check_bands(bands: Sequence[dict[str, Any]]) -> None:
    if not bands:
        raise ApplicationError(_("A rule needs at least one band."))
    for band in bands:
        try:
            _bound(band.get("low"))
            _bound(band.get("high"))
            Decimal(str(band["points"]))
        except (KeyError, ValueError, ArithmeticError):
            raise ApplicationError(
                _("Each band has a low bound, a high bound and points.")
            ) from None


def points_for(value_percent: Fraction, bands: Sequence[dict[str, Any]]) -> Decimal | None:
    """The points of the first band that holds the value (in percent, or the 0-100 mean), each
    bound explicitly inclusive or exclusive; None if no band holds it."""
    for band in bands:
        low, high = _bound(band.get("low")), _bound(band.get("high"))
        if low is not None and (
            value_percent < low or (value_percent == low and not band.get("low_in", True))
        ):
            continue
        if high is not None and (
            value_percent > high or (value_percent == high and not band.get("high_in", False))
        ):
            continue
        return Decimal(str(band["points"]))
    return None
