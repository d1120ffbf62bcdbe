"""A campaign from July to November on a table with real tables' rules (ADR 17), every total,
outcome and level checked against a hand computation written here.

The table (100 points, pass mark 80; bands 优秀 ≥ 90, 合格 ≥ 80 passing, 不合格 ≥ 0 failing):

    A  A1 graded 30, a gate: below 15 bars commendation
       A2 all-or-nothing 8
       A3 graded 20, exempt (N/A) counts as full marks (免检满分)
    B  B1 graded 20
       B2 graded 22
    X  X1 bonus 5 (the standard's bonus cap: 3)
       X2 penalty down to -5
    vetoes: V1 fails the community; V2 caps its level at 合格

July is round 2; November (round 3) carries July's values for the items it does not re-score.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from civicmark.campaigns.models import Enrollment
from civicmark.divisions.models import Department
from civicmark.scoring import reader
from civicmark.scoring.materialize import mark
from civicmark.scoring.models import Score, VetoFinding
from civicmark.scoring.rounds import earlier, round_results
from civicmark.standards.models import AwardLevel, Category, Item, VetoItem
from tests.factories import division

FULL = {"A1": 30, "A2": 8, "A3": 20, "B1": 20, "B2": 22, "X1": 0, "X2": 0}


def table(s):  # noqa: ANN001, ANN201
    standard = s["standard"]
    Score.objects.all().delete()
    VetoFinding.objects.all().delete()
    Item.objects.filter(standard=standard).delete()
    Category.objects.filter(standard=standard).delete()
    VetoItem.objects.filter(standard=standard).delete()
    AwardLevel.objects.filter(standard=standard).delete()
    standard.bonus_cap = D(3)
    standard.save()
    for name, minimum, passing in [("不合格", 0, False), ("合格", 80, True), ("优秀", 90, True)]:
        AwardLevel.objects.create(standard=standard, name=name, min_score=minimum, passing=passing)
    dept = Department.objects.get(code="PSB")
    items = {}
    spec = {
        "A": (
            58,
            [
                ("A1", 30, {"gate_below": D(15), "gate_effect": "no_commendation"}),
                ("A2", 8, {"kind": "all_or_nothing"}),
                ("A3", 20, {"na_rule": "full"}),
            ],
        ),
        "B": (42, [("B1", 20, {}), ("B2", 22, {})]),
        "X": (0, [("X1", 5, {"kind": "bonus"}), ("X2", 5, {"kind": "penalty", "floor": D(-5)})]),
    }
    for order, (code, (points, rows)) in enumerate(spec.items()):
        category = Category.objects.create(
            standard=standard, code=code, name=code, points=points, order=order
        )
        for n, (item, maximum, extra) in enumerate(rows):
            items[item] = Item.objects.create(
                standard=standard,
                category=category,
                code=item,
                title=item,
                points=maximum,
                department=dept,
                order=order * 10 + n,
                **extra,
            )
    vetoes = {
        "V1": VetoItem.objects.create(
            standard=standard, code="V1", condition="c", department=dept, order=0
        ),
        "V2": VetoItem.objects.create(
            standard=standard,
            code="V2",
            condition="c",
            department=dept,
            order=1,
            effect="cap",
            cap_level="合格",
        ),
    }
    return items, vetoes


@pytest.fixture
def campaign(scoring, world):  # noqa: ANN001, ANN201
    s = scoring
    items, vetoes = table(s)
    july = s["campaign"].rounds.get(number=2)
    november = s["campaign"].rounds.get(number=3)
    assert earlier(november) == july and earlier(july) is None
    return dict(s, items=items, vetoes=vetoes, july=july, november=november, world=world)


def give(c, round_, enrollment, code, *points):  # noqa: ANN001, ANN201
    """Each assessor's points for one item (None: not applicable), as ORM rows, its results
    marked stale as the writer does."""
    mark(round_, [enrollment.pk])
    Score.objects.bulk_create(
        Score(
            round=round_,
            enrollment=enrollment,
            item=c["items"][code],
            assessor=c["assessors"][n],
            points=None if p is None else D(str(p)),
            not_applicable=p is None,
            reason="r",
        )
        for n, p in enumerate(points)
    )


def find(c, round_, enrollment, code, *, lifts=False):  # noqa: ANN001, ANN201
    mark(round_, [enrollment.pk])
    VetoFinding.objects.create(
        round=round_,
        enrollment=enrollment,
        veto=c["vetoes"][code],
        assessor=c["assessors"][0],
        reason="整改到位" if lifts else "发现",
        lifts=lifts,
    )


def check(round_, enrollment, total, outcome, level, commendable, gates=(), vetoes=()):  # noqa: ANN001, ANN201
    """The fast path, the detailed path and the stored result all say the hand computation."""
    expected = (D(total), outcome, level, commendable, list(gates), list(vetoes))
    for r in (round_results(round_)[enrollment.pk], reader.detail(round_, enrollment)):
        assert (r.total, str(r.outcome), r.level, r.commendable, r.gates, r.vetoes) == expected
    fresh = type(round_).objects.get(pk=round_.pk)  # as the next request reads it
    row = reader.stored(fresh, [enrollment.pk]).get()
    assert (
        row.total,
        row.outcome,
        row.level or None,
        row.commendable,
        [(g["item"], g["effect"]) for g in row.gates],
        [(v["code"], v["found_in_round"]) for v in row.vetoes],
    ) == expected


def test_from_july_to_november(campaign):  # noqa: PLR0915
    c = campaign
    july, november = c["july"], c["november"]
    e = c["enrollments"]

    # C111: full marks in July, and V1 found there.
    for code, points in FULL.items():
        give(c, july, e["C111"], code, points)
    find(c, july, e["C111"], "V1")
    # C112: all-or-nothing A2 given 8 and 0: a tie gives 0, not the mean 4; V1 found in July.
    for code, points in FULL.items():
        give(c, july, e["C112"], code, *((8, 0) if code == "A2" else (points,)))
    find(c, july, e["C112"], "V1")
    # C121: A3 exempt (N/A, counted as full marks); A1 at 14 trips its gate (below 15).
    for code, points in {**FULL, "A1": 14, "A3": None, "B1": 19.5}.items():
        give(c, july, e["C121"], code, points)
    # C211: a bonus of 5 (capped at 3) and a penalty of -2; V2 caps its level at 合格.
    for code, points in {**FULL, "B1": 16, "X1": 5, "X2": -2}.items():
        give(c, july, e["C211"], code, points)
    find(c, july, e["C211"], "V2")

    # July, by hand:
    # C111: 100 / 100 x 100 = 100.00, but V1 fails it: vetoed, the lowest failing band.
    check(july, e["C111"], "100.00", "vetoed", "不合格", False, vetoes=[("V1", 2)])
    # C112: (30 + 0 + 20 + 20 + 22) = 92 / 100 -> 92.00 (the mean would say 96.00); vetoed.
    check(july, e["C112"], "92.00", "vetoed", "不合格", False, vetoes=[("V1", 2)])
    # C121: 14 + 8 + 20 (exempt, full) + 19.5 + 22 = 83.5 / 100 -> 83.50: a standard unit at
    # 合格, not commendable (the A1 gate). Left out instead, A3 would give 63.5 / 80 -> 79.38,
    # not reached: the exempt rule flips the outcome.
    check(
        july, e["C121"], "83.50", "standard_unit", "合格", False, gates=[("A1", "no_commendation")]
    )
    assert D(63.5) / D(80) * 100 < 80 <= D(83.5)
    # C211: 30 + 8 + 20 + 16 + 22 = 96 -> 96.00; + min(5, 3) - 2 = 97.00: 优秀 by its total,
    # capped at 合格 by V2 (a cap does not bar commendation).
    check(july, e["C211"], "97.00", "standard_unit", "合格", True, vetoes=[("V2", 2)])
    detail = reader.detail(july, e["C211"])
    assert (detail.bonus, detail.penalty, detail.lost) == (
        D(3),
        D(-2),
        [("B1", D(4)), ("X2", D(2))],
    )

    # A late community, enrolled after July: nothing of it in July.
    late_division = division("C122", "Community 122", "community", c["world"].d["T12"])
    late = Enrollment.objects.create(campaign=c["campaign"], community=late_division)
    check(july, late, "0.00", "incomplete", None, False)

    # November. C111's department re-scores A1 and records no veto: V1 still stands.
    give(c, november, e["C111"], "A1", 30)
    check(november, e["C111"], "100.00", "vetoed", "不合格", False, vetoes=[("V1", 2)])
    # C112: V1 lifted in November, A2 re-scored 8 and 8: 100 / 100, 优秀, commendable.
    find(c, november, e["C112"], "V1", lifts=True)
    give(c, november, e["C112"], "A2", 8, 8)
    check(november, e["C112"], "100.00", "standard_unit", "优秀", True)
    # C121 and C211 carry July's values and C211's V2 stands.
    check(
        november,
        e["C121"],
        "83.50",
        "standard_unit",
        "合格",
        False,
        gates=[("A1", "no_commendation")],
    )
    check(november, e["C211"], "97.00", "standard_unit", "合格", True, vetoes=[("V2", 2)])
    # The late community is scored in full in November, three assessors on A2 (8, 0, 8 -> 8),
    # two on B2 (20 and 21 -> 20.5): 24 + 8 + 16 + 18 + 20.5 = 86.5 -> 86.50, + 2 bonus = 88.50.
    for code, points in {"A1": (24,), "A2": (8, 0, 8), "A3": (16,), "B1": (18,),
                         "B2": (20, 21), "X1": (2,), "X2": (0,)}.items():  # fmt: skip
        give(c, november, late, code, *points)
    check(november, late, "88.50", "standard_unit", "合格", True)
    # Nothing done in November changed July.
    check(july, e["C112"], "92.00", "vetoed", "不合格", False, vetoes=[("V1", 2)])
    check(july, late, "0.00", "incomplete", None, False)
