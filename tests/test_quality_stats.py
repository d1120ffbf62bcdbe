"""The statistics of assessor quality (issue 17 item 2): Krippendorff's alpha against the
published worked examples, deviation from the panel's median, the outlier rule, and drift on
constructed panels with a known bias."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from civicmark.quality.stats import (
    FEW_SHARED,
    alpha,
    deviations,
    drift,
    nominal,
    outliers,
    shown,
)

N = None


def _matrix(rows: dict[str, list[int | None]]) -> dict[int, dict[str, int | None]]:
    """Coders' rows (as the papers print them) into units x coders."""
    width = len(next(iter(rows.values())))
    return {u: {coder: values[u] for coder, values in rows.items()} for u in range(width)}


# Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability", Departmental Papers
# (ASC) 43, University of Pennsylvania, section C ("Nominal data, any number of observers,
# missing data") and E (the interval metric) on the same 4 observers x 12 units; the paper (and
# Content Analysis, 3rd/4th ed.) reports alpha = 0.743 nominal and 0.849 interval. Unit 12 has
# one value only and is not pairable.
KRIPPENDORFF_2011_C = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
# The same paper, section A ("Binary or dichotomous data, two observers, no missing data"):
# alpha = 0.095; with two values the interval metric is the nominal one up to scale.
KRIPPENDORFF_2011_A = {
    "A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
}


def test_it_matches_krippendorffs_published_interval_alpha():
    assert shown(alpha(_matrix(KRIPPENDORFF_2011_C)), 3) == Decimal("0.849")


def test_it_matches_krippendorffs_published_nominal_alpha():
    assert shown(alpha(_matrix(KRIPPENDORFF_2011_C), nominal), 3) == Decimal("0.743")


def test_it_matches_krippendorffs_binary_example_both_ways():
    data = _matrix(KRIPPENDORFF_2011_A)
    assert shown(alpha(data), 3) == Decimal("0.095")
    assert shown(alpha(data, nominal), 3) == Decimal("0.095")


def test_it_leaves_a_unit_with_one_value_out():
    with_single = _matrix(KRIPPENDORFF_2011_C)
    without = {u: row for u, row in with_single.items() if u != 11}
    assert alpha(with_single) == alpha(without)


def test_it_says_alpha_is_undefined_without_variation_or_pairs():
    assert alpha({1: {"a": 3, "b": 3}, 2: {"a": 3, "b": 3}}) is None
    assert alpha({1: {"a": 3, "b": None}, 2: {"a": 4}}) is None
    assert alpha({}) is None


values = st.integers(min_value=0, max_value=20)


@given(
    truth=st.lists(values, min_size=2, max_size=12).filter(lambda t: len(set(t)) > 1),
    coders=st.integers(min_value=2, max_value=6),
)
def test_it_gives_one_for_perfect_agreement(truth, coders):
    matrix = {u: {c: v for c in range(coders)} for u, v in enumerate(truth)}
    assert alpha(matrix) == 1


@given(
    data=st.lists(
        st.lists(st.one_of(st.none(), values), min_size=4, max_size=4), min_size=2, max_size=10
    ),
    order=st.permutations(range(4)),
)
def test_it_does_not_depend_on_how_coders_are_labelled(data, order):
    matrix = {u: dict(enumerate(row)) for u, row in enumerate(data)}
    relabelled = {u: {order[c]: v for c, v in row.items()} for u, row in matrix.items()}
    assert alpha(relabelled) == alpha(matrix)


@given(
    data=st.lists(
        st.lists(st.one_of(st.none(), values), min_size=3, max_size=3), min_size=2, max_size=10
    ),
    shift=st.integers(min_value=-5, max_value=5),
)
def test_it_does_not_move_when_every_value_shifts_alike(data, shift):
    """The interval metric reads differences only."""
    matrix = {u: dict(enumerate(row)) for u, row in enumerate(data)}
    moved = {
        u: {c: None if v is None else v + shift for c, v in row.items()}
        for u, row in matrix.items()
    }
    assert alpha(moved) == alpha(matrix)


def test_it_measures_deviation_from_the_panels_median():
    """Three assessors on two items of maximum 10 and 4; "c" is a point under on each."""
    matrix = {"X": {"a": 8, "b": 8, "c": 7}, "Y": {"a": 4, "b": 3, "c": 2}}
    found = deviations(matrix, {"X": 10, "Y": 4})
    assert found.medians == {"X": 8, "Y": 3}
    assert found.items["X"].mad == Fraction(1, 3)
    assert found.items["Y"].mad == Fraction(2, 3)
    assert found.assessors["c"].mad == 1
    assert found.assessors["c"].signed == -1
    assert found.assessors["a"].signed == Fraction(1, 2)
    assert found.shares["c"] == (Fraction(1, 10) + Fraction(1, 4)) / 2


def test_it_names_the_outlier_by_the_stated_rule():
    shares = {
        "a": Fraction(2, 100),
        "b": Fraction(3, 100),
        "c": Fraction(4, 100),
        "d": Fraction(30, 100),
    }
    assert outliers(shares) == ["d"]


def test_it_names_nobody_in_a_tight_panel_or_one_of_two():
    # Twice the median but under a tenth of the maximum: half a step off is not an outlier.
    assert outliers({"a": Fraction(1, 100), "b": Fraction(1, 100), "c": Fraction(8, 100)}) == []
    assert outliers({"a": Fraction(0), "b": Fraction(1, 2)}) == []


def test_it_names_nobody_when_the_whole_panel_is_loose():
    shares = {"a": Fraction(20, 100), "b": Fraction(25, 100), "c": Fraction(30, 100)}
    assert outliers(shares) == []


@given(
    truth=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=30),
    panel=st.integers(min_value=2, max_value=6),
    biased=st.data(),
    bias=st.integers(min_value=-10, max_value=10).map(lambda b: Fraction(b, 2)),
)
def test_drift_recovers_a_bias_injected_into_one_assessor(truth, panel, biased, bias):
    """A panel that scores every cell exactly but for one assessor, who adds `bias` to every
    value: his drift is the bias, each peer's is -bias / (panel - 1)."""
    who = biased.draw(st.integers(min_value=0, max_value=panel - 1))
    cells = {
        cell: {a: Fraction(v) + (bias if a == who else 0) for a in range(panel)}
        for cell, v in enumerate(truth)
    }
    found = drift(cells)
    assert found[who].mean == bias
    assert found[who].n == len(truth)
    for peer in range(panel):
        if peer != who:
            assert found[peer].mean == -bias / (panel - 1)


def test_drift_counts_only_shared_cells_and_flags_few():
    cells: dict[int, dict[str, int | None]] = {
        1: {"a": 10, "b": 8},
        2: {"a": 6},  # nobody else scored it: not shared
        3: {"a": 5, "b": 5, "c": None},  # c marked it not applicable
        4: {"c": 3},
    }
    found = drift(cells)
    assert found["a"].n == 2 and found["a"].mean == 1
    assert found["b"].n == 2 and found["b"].mean == -1
    assert "c" not in found  # shares no cell with a value: no figure without a peer
    assert found["a"].few and FEW_SHARED > 2


def test_drift_is_not_flagged_few_from_the_threshold_on():
    cells = {n: {"a": 4, "b": 3} for n in range(FEW_SHARED)}
    assert not drift(cells)["a"].few
