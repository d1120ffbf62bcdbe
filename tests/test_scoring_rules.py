"""The scoring rules (the reference the round queries will be held to), over many random tables."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from civicmark.scoring.rules import (
    CategoryInput,
    ItemInput,
    Outcome,
    Rule,
    TableInput,
    combine,
    score,
)

halves = st.integers(min_value=1, max_value=20).map(lambda n: Decimal(n) / 2)


@st.composite
def scored_tables(draw, *, complete=True):  # noqa: ANN001, ANN201
    categories, items = [], []
    for c in range(draw(st.integers(min_value=1, max_value=5))):
        maxima = draw(st.lists(halves, min_size=1, max_size=5))
        categories.append(
            CategoryInput(
                f"C{c}",
                sum(maxima, Decimal(0)),
                draw(st.none() | st.just(sum(maxima, Decimal(0)) / 2)),
            )
        )
        for i, m in enumerate(maxima):
            given_points = tuple(
                Decimal(draw(st.integers(min_value=0, max_value=int(m * 2)))) / 2
                for _ in range(draw(st.integers(min_value=1 if complete else 0, max_value=3)))
            )
            items.append(
                ItemInput(
                    f"C{c}I{i}",
                    f"C{c}",
                    m,
                    given_points,
                    draw(st.booleans()) and i > 0,
                )
            )
    raw_total = sum((c.points for c in categories), Decimal(0))
    table = TableInput(
        Decimal(100),
        Decimal(80),
        tuple(categories),
        (("standard", Decimal(80)), ("advanced", Decimal(90))),
    )
    assert raw_total > 0
    return table, items


@settings(max_examples=300, deadline=None)
@given(scored_tables(), st.sampled_from(list(Rule)), st.integers(min_value=0, max_value=2))
def test_a_total_never_exceeds_the_standards_total(data, rule, vetoes):
    table, items = data
    result = score(table, items, vetoes=vetoes, rule=rule)
    assert Decimal(0) <= result.total <= table.total_points


@settings(max_examples=300, deadline=None)
@given(scored_tables(), st.integers(min_value=1, max_value=3))
def test_a_veto_always_fails_a_complete_community(data, vetoes):
    table, items = data
    assert score(table, items, vetoes=vetoes).outcome == Outcome.VETOED


@settings(max_examples=200, deadline=None)
@given(scored_tables(complete=False))
def test_an_unscored_applicable_item_leaves_the_community_incomplete(data):
    table, items = data
    missing = [i for i in items if not i.not_applicable and not i.points]
    result = score(table, items, vetoes=1)
    assert (result.outcome == Outcome.INCOMPLETE) == bool(missing)


@settings(max_examples=300, deadline=None)
@given(scored_tables())
def test_not_applicable_items_leave_both_sides_of_the_fraction(data):
    table, items = data
    applicable = [i for i in items if not i.not_applicable]
    gained = sum((combine(i.points) for i in applicable), Decimal(0))
    possible = sum((i.max_points for i in applicable), Decimal(0))
    expected = (gained / possible * table.total_points).quantize(Decimal("0.01"))
    assert abs(score(table, items).total - expected) <= Decimal("0.01")
    # Full marks on every applicable item is 100, however many items do not apply.
    perfect = [
        ItemInput(i.code, i.category, i.max_points, (i.max_points,), i.not_applicable)
        for i in items
    ]
    assert score(table, perfect).total == table.total_points


@settings(max_examples=300, deadline=None)
@given(st.lists(halves, min_size=1, max_size=7))
def test_the_combining_rules(points):
    assert combine(points, Rule.MINIMUM) == min(points)
    assert min(points) <= combine(points, Rule.MEDIAN) <= max(points)
    assert min(points) <= combine(points, Rule.MEAN) <= max(points)
    assert abs(combine(points, Rule.MEAN) * len(points) - sum(points)) <= Decimal("0.005") * len(
        points
    )


@settings(max_examples=200, deadline=None)
@given(scored_tables())
def test_a_standard_unit_has_reached_the_threshold_and_every_category_minimum(data):
    table, items = data
    result = score(table, items)
    if result.outcome == Outcome.STANDARD:
        assert result.total >= table.pass_threshold and not result.categories_below_minimum
        assert result.level == ("advanced" if result.total >= 90 else "standard")
    else:
        assert result.outcome == Outcome.NOT_REACHED
        assert result.total < table.pass_threshold or result.categories_below_minimum
    # Full marks everywhere is always a standard unit at the highest level.
    perfect = [
        ItemInput(i.code, i.category, i.max_points, (i.max_points,), i.not_applicable)
        for i in items
    ]
    assert score(table, perfect).level == "advanced"


def test_a_worked_example():
    """80.0 exactly is a standard unit; one lost point below it is not; a veto fails 95."""
    table = TableInput(
        Decimal(100),
        Decimal(80),
        (CategoryInput("A", Decimal(60), Decimal(30)), CategoryInput("B", Decimal(40))),
        (("达标单位", Decimal(80)), ("先进单位", Decimal(90))),
    )
    items = [
        ItemInput("A1", "A", Decimal(60), (Decimal(45), Decimal(47))),
        ItemInput("B1", "B", Decimal(20), (Decimal(15),)),
        ItemInput("B2", "B", Decimal(20), (), not_applicable=True),
    ]
    result = score(table, items)
    assert result.total == Decimal("76.25")  # (46 + 15) / 80 * 100
    assert result.outcome == Outcome.NOT_REACHED
    assert result.lost == [("A1", Decimal(14)), ("B1", Decimal(5))]
    items[1] = ItemInput("B1", "B", Decimal(20), (Decimal(18),))
    assert score(table, items).total == Decimal("80.00")
    assert score(table, items).level == "达标单位"
    assert score(table, items, vetoes=1).outcome == Outcome.VETOED
    low_a = [
        ItemInput("A1", "A", Decimal(60), (Decimal(29),)),
        ItemInput("B1", "B", Decimal(20), (Decimal(20),)),
        ItemInput("B2", "B", Decimal(20), (Decimal(20),)),
    ]
    assert score(table, low_a).categories_below_minimum == ["A"]
