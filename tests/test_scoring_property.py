"""The pure rules and the round's SQL give the same result (ADR 17), on random standards using
every item kind, N/A rule, gate effect, veto effect, failing bands and a bonus cap, with random
points by one to three assessors, N/A, settlements, and vetoes found, standing and lifted."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.divisions.models import Department
from civicmark.scoring.materialize import current, mark
from civicmark.scoring.models import CommunityResult, Score, Settlement, VetoFinding
from civicmark.scoring.rounds import round_results, table_of
from civicmark.scoring.rules import ItemInput, Rule, VetoInput, is_na, item_value, score
from civicmark.standards.models import AwardLevel, Category, Item, VetoItem

KINDS = ["graded", "all_or_nothing", "per_occurrence", "bonus", "penalty"]
halves = st.integers(min_value=1, max_value=20).map(lambda n: Decimal(n) / 2)


@st.composite
def standards(draw):  # noqa: ANN001, ANN201
    """A random table: categories of items of every kind, bands, vetoes."""
    bands = [("优秀", Decimal(90), True), ("合格", Decimal(80), True)]
    if draw(st.booleans()):
        bands.append(("基本合格", Decimal(60), False))
    if draw(st.booleans()):
        bands.append(("不合格", Decimal(0), False))
    if draw(st.booleans()):
        bands.append(("良好", Decimal(85), True))
    passing = [name for name, _m, p in bands if p]
    categories = []
    for c in range(draw(st.integers(min_value=1, max_value=3))):
        items = []
        for _i in range(draw(st.integers(min_value=1, max_value=4))):
            kind = draw(st.sampled_from(KINDS))
            maximum = draw(halves)
            gate = draw(st.sampled_from(["", "", "veto", "no_commendation", "cap"]))
            items.append(
                {
                    "kind": kind,
                    "points": maximum,
                    "na_rule": draw(st.sampled_from(["exclude", "full"])),
                    "gate_effect": gate,
                    "gate_below": (
                        Decimal(draw(st.integers(min_value=0, max_value=int(maximum * 2)))) / 2
                        if gate
                        else None
                    ),
                    "gate_level": draw(st.sampled_from(passing)) if gate == "cap" else "",
                }
            )
        counted = sum((i["points"] for i in items if i["kind"] not in ("bonus", "penalty")), 0)
        minimum = draw(st.none() | st.just(Decimal(counted) / 2)) if counted else None
        categories.append((f"K{c}", Decimal(counted), minimum, items))
    vetoes = [
        (f"V{v}", effect, draw(st.sampled_from(passing)) if effect == "cap" else "")
        for v, effect in enumerate(
            draw(st.lists(st.sampled_from(["fail", "cap"]), min_size=0, max_size=2))
        )
    ]
    bonus_cap = draw(st.none() | halves)
    return {"bands": bands, "categories": categories, "vetoes": vetoes, "bonus_cap": bonus_cap}


def entry_of(draw, item):  # noqa: ANN001, ANN201
    """What the assessors (and perhaps the lead) gave one item."""
    m = item["points"]
    if item["kind"] == "penalty":
        value = st.integers(min_value=-int(m * 2), max_value=0).map(lambda n: Decimal(n) / 2)
    elif item["kind"] == "all_or_nothing":
        value = st.sampled_from([Decimal(0), m])
    else:
        value = st.integers(min_value=0, max_value=int(m * 2)).map(lambda n: Decimal(n) / 2)
    how = draw(st.sampled_from(["none", "na", "scored", "scored", "scored", "mixed"]))
    given_ = []
    if how == "na":
        given_ = [None] * draw(st.integers(min_value=1, max_value=2))
    elif how == "scored":
        given_ = [draw(value) for _ in range(draw(st.integers(min_value=1, max_value=3)))]
    elif how == "mixed":
        given_ = [None, draw(value)]
    settled = draw(st.sampled_from(["no", "no", "no", "value", "na"])) if given_ else "no"
    return {
        "given": given_,
        "settled": None if settled == "no" else ("na" if settled == "na" else draw(value)),
    }


@st.composite
def rounds(draw, table, communities):  # noqa: ANN001, ANN201
    """July's entries; perhaps November's (carrying July's values for what it does not
    re-score); the vetoes; each round's rule."""
    keys = [
        (c, k, n)
        for c in communities
        for k, (_code, _pts, _min, items) in enumerate(table["categories"])
        for n, _item in enumerate(items)
    ]

    def item(key):  # noqa: ANN001, ANN202
        return table["categories"][key[1]][3][key[2]]

    july = {key: entry_of(draw, item(key)) for key in keys}
    november = None
    if draw(st.booleans()):
        november = {key: entry_of(draw, item(key)) for key in keys if draw(st.booleans())}
    # Per community and veto: nothing, found in the round computed, found in the county round
    # (standing), or found in the county round and lifted in the round computed.
    vetoes = {
        (c, v): draw(st.sampled_from(["none", "none", "here", "before", "lifted"]))
        for c in communities
        for v in range(len(table["vetoes"]))
    }
    rules = (draw(st.sampled_from(list(Rule))), draw(st.sampled_from(list(Rule))))
    return july, november, vetoes, rules


def build(s, table):  # noqa: ANN001, ANN201
    """Replace the campaign's standard's contents with the random table."""
    standard = s["standard"]
    Score.objects.all().delete()
    Settlement.objects.all().delete()
    VetoFinding.objects.all().delete()
    Item.objects.filter(standard=standard).delete()
    Category.objects.filter(standard=standard).delete()
    VetoItem.objects.filter(standard=standard).delete()
    AwardLevel.objects.filter(standard=standard).delete()
    dept = Department.objects.get(code="PSB")
    standard.bonus_cap = table["bonus_cap"]
    standard.save()
    for name, minimum, passing in table["bands"]:
        AwardLevel.objects.create(standard=standard, name=name, min_score=minimum, passing=passing)
    items = {}
    for k, (code, points, minimum, spec) in enumerate(table["categories"]):
        category = Category.objects.create(
            standard=standard, code=code, name=code, points=points, min_points=minimum, order=k
        )
        for n, item in enumerate(spec):
            items[(k, n)] = Item.objects.create(
                standard=standard,
                category=category,
                code=f"{code}.{n}",
                title="t",
                department=dept,
                order=k * 10 + n,
                floor=-item["points"] if item["kind"] == "penalty" else None,
                **item,
            )
    vetoes = [
        VetoItem.objects.create(
            standard=standard,
            code=code,
            condition="c",
            department=dept,
            order=v,
            effect=effect,
            cap_level=cap,
        )
        for v, (code, effect, cap) in enumerate(table["vetoes"])
    ]
    return items, vetoes


def write(s, round_, items, entries):  # noqa: ANN001, ANN201
    scores, settlements = [], []
    for (c, k, n), entry in entries.items():
        enrollment, item = s["enrollments"][c], items[(k, n)]
        for a, points in enumerate(entry["given"]):
            scores.append(
                Score(
                    round=round_,
                    enrollment=enrollment,
                    item=item,
                    assessor=s["assessors"][a],
                    points=points,
                    not_applicable=points is None,
                    reason="r",
                )
            )
        if entry["settled"] is not None:
            settled = entry["settled"]
            settlements.append(
                Settlement(
                    round=round_,
                    enrollment=enrollment,
                    item=item,
                    points=None if settled == "na" else settled,
                    not_applicable=settled == "na",
                    reason="settled",
                    settled_by=s["assessors"][0],
                )
            )
    Score.objects.bulk_create(scores)
    Settlement.objects.bulk_create(settlements)


def pure_item(code, category, item, entry):  # noqa: ANN001, ANN201
    """The reference's input for one item from what was given (no entry: unscored)."""
    entry = entry or {"given": [], "settled": None}
    given_ = tuple(p for p in entry["given"] if p is not None)
    settled = entry["settled"]
    return ItemInput(
        code,
        category,
        item["points"],
        given_,
        bool(entry["given"]) and not given_,
        kind=item["kind"],
        na_rule=item["na_rule"],
        gate_below=item["gate_below"],
        gate_effect=item["gate_effect"],
        gate_level=item["gate_level"],
        settled=None if settled in (None, "na") else settled,
        settled_na=settled == "na",
    )


def rescored(entry):  # noqa: ANN001, ANN201
    return entry is not None and (entry["given"] or entry["settled"] is not None)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_round_sql_equals_the_pure_rules_on_random_standards(scoring, data):
    s = scoring
    table = data.draw(standards())
    communities = sorted(s["enrollments"])
    july_entries, november_entries, veto_states, (rule, july_rule) = data.draw(
        rounds(table, communities)
    )
    items, veto_items = build(s, table)
    county = s["campaign"].rounds.get(number=1)
    july = s["campaign"].rounds.get(number=2)
    round_ = july if november_entries is None else s["campaign"].rounds.get(number=3)
    assert not july.carries_from and round_.carries_from in (None, 2)
    july.combine_rule = (rule if round_ == july else july_rule).value
    july.save()
    round_.combine_rule = rule.value
    round_.save()
    write(s, july, items, july_entries)
    if november_entries is not None:
        write(s, round_, items, november_entries)
    findings = []
    for (c, v), state in veto_states.items():
        where = {"here": [(round_, False)], "before": [(county, False)]}.get(
            state, [(county, False), (round_, True)] if state == "lifted" else []
        )
        findings += [
            VetoFinding(
                round=r,
                enrollment=s["enrollments"][c],
                veto=veto_items[v],
                assessor=s["assessors"][0],
                reason="x",
                lifts=lifts,
            )
            for r, lifts in where
        ]
    VetoFinding.objects.bulk_create(findings)

    fast = round_results(round_)
    detailed = round_results(round_, detail=True)
    mark(round_, [e.pk for e in s["enrollments"].values()])
    current(round_)
    stored = {r.enrollment_id: r for r in CommunityResult.objects.filter(round=round_)}
    pure_table = table_of(round_)
    for c in communities:
        inputs = []
        for k, (code, _points, _min, spec) in enumerate(table["categories"]):
            for n, item in enumerate(spec):
                entries = july_entries if november_entries is None else november_entries
                here = entries.get((c, k, n))
                if november_entries is None or rescored(here):
                    inputs.append(pure_item(f"{code}.{n}", code, item, here))
                    continue
                # November did not re-score it: July's value, combined by July's rule.
                old = pure_item(f"{code}.{n}", code, item, july_entries[(c, k, n)])
                value = item_value(old, july_rule)
                if value is None and not is_na(old):
                    inputs.append(pure_item(f"{code}.{n}", code, item, None))  # unscored
                else:
                    inputs.append(replace(old, settled=value, settled_na=value is None))
        standing = [
            VetoInput(code, effect, cap, round_.number if veto_states[(c, v)] == "here" else 1)
            for v, (code, effect, cap) in enumerate(table["vetoes"])
            if veto_states[(c, v)] in ("here", "before")
        ]
        expected = score(pure_table, inputs, vetoes=standing, rule=rule)
        pk = s["enrollments"][c].pk
        for got in (fast[pk], detailed[pk]):
            assert (
                got.total,
                got.outcome,
                got.level,
                got.commendable,
                got.gates,
                got.vetoes,
                got.category_subtotals,
                got.categories_below_minimum,
                got.possible,
                got.bonus,
                got.penalty,
            ) == (
                expected.total,
                expected.outcome,
                expected.level,
                expected.commendable,
                expected.gates,
                expected.vetoes,
                expected.category_subtotals,
                expected.categories_below_minimum,
                expected.possible,
                expected.bonus,
                expected.penalty,
            ), (c, rule, july_rule, table, july_entries, november_entries)
        assert (detailed[pk].lost, detailed[pk].unscored) == (expected.lost, expected.unscored)
        row = stored[pk]
        assert (
            row.total,
            row.outcome,
            row.level or None,
            row.commendable,
            row.gates,
            row.vetoes,
        ) == (
            expected.total,
            str(expected.outcome),
            expected.level,
            expected.commendable,
            [{"item": i, "effect": e} for i, e in expected.gates],
            [{"code": v, "found_in_round": n} for v, n in expected.vetoes],
        )
