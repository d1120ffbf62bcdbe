"""The scoring rules (the reference the round queries will be held to), over many random tables."""

from __future__ import annotations

from dataclasses import replace
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


# --- ADR 17: the rules of real tables, one worked example each (docs/scoring.md) --------------

D = Decimal
BANDS = (
    ("不合格", D(0), False),
    ("基本合格", D(60), False),
    ("合格", D(80), True),
    ("优秀", D(90), True),
)


def real_table(bonus_cap=None):  # noqa: ANN001, ANN201
    return TableInput(
        D(100),
        D(80),
        (CategoryInput("A", D(100)), CategoryInput("X", D(0))),
        BANDS,
        bonus_cap=bonus_cap,
    )


def test_an_all_or_nothing_item_takes_the_majority_and_a_tie_gives_nothing():
    from civicmark.scoring.rules import majority

    assert majority((D(8), D(0)), D(8)) == 0  # not the mean 4
    assert majority((D(8), D(0), D(8)), D(8)) == 8
    assert majority((D(8),), D(8)) == 8
    items = [
        ItemInput("A1", "A", D(92), (D(92),)),
        ItemInput("A2", "A", D(8), (D(8), D(0)), kind="all_or_nothing"),
    ]
    for rule in Rule:
        assert score(real_table(), items, rule=rule).total == D("92.00")


def test_a_settlement_replaces_the_combination_and_a_settled_na_leaves_the_item():
    items = [
        ItemInput("A1", "A", D(80), (D(80),)),
        ItemInput("A2", "A", D(20), (D(10), D(2)), settled=D(6)),
    ]
    assert score(real_table(), items).total == D("86.00")
    items[1] = ItemInput("A2", "A", D(20), (D(10), D(2)), settled_na=True)
    result = score(real_table(), items)
    assert (result.total, result.possible, result.unscored) == (D("100.00"), D(80), [])


def test_an_exempt_item_counted_as_full_marks_can_flip_the_outcome():
    scored = [ItemInput("A1", "A", D(80), (D("63.5"),))]
    excluded = [*scored, ItemInput("A3", "A", D(20), (), True)]
    full = [*scored, ItemInput("A3", "A", D(20), (), True, na_rule="full")]
    assert (score(real_table(), excluded).total, score(real_table(), excluded).outcome) == (
        D("79.38"),
        Outcome.NOT_REACHED,
    )
    result = score(real_table(), full)
    assert (result.total, result.outcome, result.level) == (D("83.50"), Outcome.STANDARD, "合格")
    assert result.category_subtotals["A"] == D("83.50") and result.lost == [("A1", D("16.5"))]


def test_bonus_is_capped_and_a_penalty_cannot_take_the_total_below_zero():
    items = [
        ItemInput("A1", "A", D(100), (D(96),)),
        ItemInput("X1", "X", D(5), (D(5),), kind="bonus"),
        ItemInput("X2", "X", D(5), (D(-2),), kind="penalty"),
    ]
    result = score(real_table(bonus_cap=D(3)), items)
    assert (result.total, result.bonus, result.penalty) == (D("97.00"), D(3), D(-2))
    assert result.lost == [("A1", D(4)), ("X2", D(2))]  # a bonus is never lost
    assert result.possible == D(100)  # bonus and penalty stay outside the fraction
    low = [
        ItemInput("A1", "A", D(100), (D(1),)),
        ItemInput("X2", "X", D(5), (D(-5),), kind="penalty"),
    ]
    assert score(real_table(), low).total == D("0.00")


def test_a_gate_trips_strictly_below_and_never_on_na():
    def gated(points, effect="no_commendation", level="", na=False):  # noqa: ANN001, ANN202
        return [
            ItemInput("A1", "A", D(70), (D(70),)),
            ItemInput(
                "A2",
                "A",
                D(30),
                () if na else (D(points),),
                na,
                gate_below=D(15),
                gate_effect=effect,
                gate_level=level,
            ),
        ]

    at = score(real_table(), gated(15))
    assert (at.gates, at.commendable) == ([], True)
    below = score(real_table(), gated(14))
    assert (below.outcome, below.level, below.commendable) == (Outcome.STANDARD, "合格", False)
    assert below.gates == [("A2", "no_commendation")]
    assert score(real_table(), gated(0, na=True)).gates == []
    vetoed = score(real_table(), gated(14, "veto"))
    assert (vetoed.outcome, vetoed.level) == (Outcome.VETOED, "不合格")
    items = gated(25, "cap", "合格")
    items[1] = replace(items[1], gate_below=D(30))
    capped = score(real_table(), items)  # 95.00 reaches 优秀; 25 < 30 caps it
    assert (capped.level, capped.gates, capped.commendable) == ("合格", [("A2", "cap:合格")], True)


def test_vetoes_fail_or_cap_and_failing_bands_name_the_failures():
    from civicmark.scoring.rules import VetoInput

    items = [ItemInput("A1", "A", D(100), (D(95),))]
    capped = score(real_table(), items, vetoes=[VetoInput("V2", "cap", "合格", 2)])
    assert (capped.outcome, capped.level, capped.vetoes) == (Outcome.STANDARD, "合格", [("V2", 2)])
    failed = score(real_table(), items, vetoes=[VetoInput("V1", "fail", "", 1)])
    assert (failed.outcome, failed.level, failed.commendable) == (Outcome.VETOED, "不合格", False)
    low = score(real_table(), [ItemInput("A1", "A", D(100), (D(72),))])
    assert (low.outcome, low.level) == (Outcome.NOT_REACHED, "基本合格")
    incomplete = score(real_table(), [ItemInput("A1", "A", D(100))])
    assert (incomplete.outcome, incomplete.level) == (Outcome.INCOMPLETE, None)
