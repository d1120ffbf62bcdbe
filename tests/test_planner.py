"""The gap planner picks the fewest items, checked against a search of every subset."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from civicmark.results.planner import Gap, Loss, plan, satisfies

halves = st.integers(min_value=1, max_value=20).map(lambda n: Decimal(n) / 2)


@st.composite
def cases(draw):  # noqa: ANN001, ANN201
    losses = [
        Loss(f"I{n}", draw(st.sampled_from("AB")), draw(halves))
        for n in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    lost = sum((x.points for x in losses), Decimal(0))
    possible = lost + draw(st.integers(min_value=10, max_value=60))
    gained = possible - lost
    categories = {}
    for code in draw(st.sets(st.sampled_from("AB"))):
        in_cat = sum((x.points for x in losses if x.category == code), Decimal(0))
        subtotal = Decimal(draw(st.integers(min_value=0, max_value=20)))
        categories[code] = (subtotal, subtotal + draw(st.sampled_from([0, 1, 3])) * in_cat / 3)
    gap = Gap(
        gained=gained,
        possible=possible,
        total_points=Decimal(100),
        threshold=Decimal(draw(st.integers(min_value=50, max_value=95))),
        categories=categories,
    )
    return gap, losses


def fewest(gap: Gap, losses: list[Loss]) -> int | None:
    for size in range(len(losses) + 1):
        if any(satisfies(gap, chosen) for chosen in combinations(losses, size)):
            return size
    return None


@settings(max_examples=300, deadline=None)
@given(cases())
def test_the_plan_is_the_smallest_set_that_works(case):  # noqa: ANN001
    gap, losses = case
    result = plan(gap, losses)
    best = fewest(gap, losses)
    if best is None:
        assert not result.feasible and len(result.items) == len(losses)
    else:
        assert result.feasible and satisfies(gap, result.items)
        assert len(result.items) == best


def test_a_category_minimum_is_met_before_the_total():
    gap = Gap(
        gained=Decimal(78),
        possible=Decimal(100),
        total_points=Decimal(100),
        threshold=Decimal(80),
        categories={"A": (Decimal(10), Decimal(12))},
    )
    losses = [Loss("B1", "B", Decimal(6)), Loss("A1", "A", Decimal(2)), Loss("A2", "A", Decimal(1))]
    chosen = plan(gap, losses)
    assert [x.code for x in chosen.items] == ["A1"] and chosen.projected_total == Decimal(80)
