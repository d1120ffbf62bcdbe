"""A whole round's results, computed by the database (ADR 17, "The arithmetic").

Each item's value is combined from its assessors' points in one aggregate query per combining
rule (mean, minimum, or a median written so that SQLite and PostgreSQL compute it alike); an
all-or-nothing item takes the majority of 0 and its maximum (a tie gives 0); a lead's settlement
replaces the combination (a UNION with NOT EXISTS); a carrying round takes the earlier round's
values for the items it did not re-score (the same UNION). A second aggregate, one row per
community as the values stream past (ADR 33), sums them per category in whole cents, with bonus
and penalty items apart and the gated items' values beside; the standing vetoes
(`scoring.vetoes.standing`) are read as they are. Python then only divides and hands each
community to `rules.total_of` and `rules.decide` (communities alike in all they read share their
verdict): the cascade is the reference's own.

The detailed path (every lost point) feeds each community's raw points to `rules.score`; the
property test (tests/test_scoring_property.py) holds the two paths equal.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery

from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core.replicas import reading_connection
from civicmark.scoring import vetoes as standing_vetoes
from civicmark.scoring.models import Score, Settlement
from civicmark.scoring.rules import (
    ALL_OR_NOTHING,
    BONUS,
    CENT,
    COUNTED,
    PENALTY,
    CategoryInput,
    ItemInput,
    Result,
    Rule,
    TableInput,
    VetoInput,
    below_minimum,
    decide,
    gate_effect,
    item_value,
    needs_of,
    score,
    total_of,
    trips,
)

ZERO = Decimal(0)


def earlier(round_: AcceptanceRound) -> AcceptanceRound | None:
    """The round this one carries scores over from, if any: the one answer (ADR 17)."""
    if not round_.carries_from:
        return None
    memo = round_.__dict__.setdefault("_earlier_round", {})
    if round_.carries_from not in memo:
        memo[round_.carries_from] = round_.campaign.rounds.filter(
            number=round_.carries_from
        ).first()
    found: AcceptanceRound | None = memo[round_.carries_from]
    return found


def _count(qs: QuerySet[Score]) -> Subquery:
    return Subquery(
        qs.order_by().values("enrollment").annotate(c=Count("id")).values("c"),
        output_field=IntegerField(),
    )


def rule_groups(round_: AcceptanceRound) -> list[tuple[Rule, Q]]:
    """The combining rules of the round and, for each, the scores it applies to: one group
    (the round's rule, every score) unless some county's part of a split round has a rule of
    its own (ADR 12), whose communities then form a group of their own."""
    own = parts.other_rules(round_)
    if not own:
        return [(Rule(round_.combine_rule), Q())]
    by_rule: dict[str, list[str]] = defaultdict(list)
    for path, rule in sorted(own.items()):
        by_rule[rule].append(path)
    field = "enrollment__community__path"
    return [(Rule(round_.combine_rule), ~parts.under(field, own))] + [
        (Rule(rule), parts.under(field, paths)) for rule, paths in by_rule.items()
    ]


def _all_or_nothing(round_: AcceptanceRound) -> list[int]:
    return list(
        round_.campaign.standard.items.filter(kind=ALL_OR_NOTHING).values_list("pk", flat=True)
    )


def combined_groups(
    round_: AcceptanceRound,
    enrollment_id: int | None = None,
    enrollment_ids: list[int] | None = None,
    *,
    aon: list[int] | None = None,
) -> list[QuerySet[Any]]:
    """`combined_points` once per combining rule in force in the round (usually one), for every
    item but the all-or-nothing ones (`_majority_sql`; `aon` when the caller has them)."""
    if aon is None:
        aon = _all_or_nothing(round_)
    return [
        combined_points(round_, enrollment_id, enrollment_ids, rule=rule, where=where, skip=aon)
        for rule, where in rule_groups(round_)
    ]


def combined_points(
    round_: AcceptanceRound,
    enrollment_id: int | None = None,
    enrollment_ids: list[int] | None = None,
    *,
    rule: Rule | None = None,
    where: Q | None = None,
    skip: list[int] | None = None,
) -> QuerySet[Any]:
    """(enrollment, item, value) for every item with at least one score that is not 'not
    applicable', combined by `rule` (the round's own by default) over the scores `where` picks,
    leaving out the items in `skip`."""
    base = Score.objects.filter(round=round_, not_applicable=False)
    if where is not None:
        base = base.filter(where)
    if skip:
        base = base.exclude(item_id__in=skip)
    if enrollment_id is not None:
        base = base.filter(enrollment_id=enrollment_id)
    if enrollment_ids is not None:
        base = base.filter(enrollment_id__in=enrollment_ids)
    rule = Rule(round_.combine_rule) if rule is None else rule
    if rule == Rule.MEAN:
        return base.values("enrollment", "item").annotate(value=Avg("points"))
    if rule == Rule.MINIMUM:
        return base.values("enrollment", "item").annotate(value=Min("points"))
    # The median is the mean of the distinct values p with at least half of the points <= p and
    # at least half >= p (at most two such values exist), which needs no window functions.
    same = base.filter(enrollment=OuterRef("enrollment"), item=OuterRef("item"))
    qualifying = base.annotate(
        n=_count(same),
        below=_count(same.filter(points__lte=OuterRef("points"))),
        above=_count(same.filter(points__gte=OuterRef("points"))),
    ).filter(Q(below__gte=F("n") / 2.0) & Q(above__gte=F("n") / 2.0))
    return qualifying.values("enrollment", "item").annotate(value=Avg("points", distinct=True))


def _names() -> dict[str, str]:
    from civicmark.standards.models import Item

    return {
        "score": Score._meta.db_table,
        "settlement": Settlement._meta.db_table,
        "item": Item._meta.db_table,
    }


def _among(column: str, only: list[int] | None) -> tuple[str, list[Any]]:
    if only is None:
        return "", []
    if not only:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join(['%s'] * len(only))})", list(only)


def _majority_sql(round_: AcceptanceRound, only: list[int] | None) -> tuple[str, list[Any]]:
    """(enrollment, item, value) of the all-or-nothing items: the maximum when more than half
    of the assessors gave it, else 0 (a tie gives 0)."""
    n = _names()
    among, params = _among("s.enrollment_id", only)
    return (
        f"SELECT s.enrollment_id AS enrollment, s.item_id AS item, "
        f"CASE WHEN 2 * SUM(CASE WHEN s.points = i.points THEN 1 ELSE 0 END) > COUNT(*) "
        f"THEN MAX(i.points) ELSE 0 END AS value "
        f"FROM {n['score']} s JOIN {n['item']} i ON i.id = s.item_id "
        f"WHERE s.round_id = %s AND s.not_applicable = %s AND i.kind = %s{among} "
        f"GROUP BY s.enrollment_id, s.item_id",
        [round_.pk, False, ALL_OR_NOTHING, *params],
    )


def _combined_sql(round_: AcceptanceRound, only: list[int] | None) -> tuple[str, list[Any]]:
    """The SQL of (enrollment, item, value) under every rule in force in the round, before
    settlements."""
    aon = _all_or_nothing(round_)
    compiled: list[tuple[str, Any]] = [
        group.query.sql_with_params()
        for group in combined_groups(round_, enrollment_ids=only, aon=aon)
    ]
    if aon:
        compiled.append(_majority_sql(round_, only))
    if len(compiled) == 1:
        return compiled[0][0], list(compiled[0][1])
    sql = " UNION ALL ".join(
        f"SELECT g{n}.enrollment, g{n}.item, g{n}.value FROM ({text}) g{n}"
        for n, (text, _params) in enumerate(compiled)
    )
    return sql, [p for _text, params in compiled for p in params]


def _round_sql(
    round_: AcceptanceRound, only: list[int] | None
) -> tuple[str, list[Any], str, list[Any]]:
    """SQL for one round's own (enrollment, item, value) and (enrollment, item) not applicable,
    a lead's settlement replacing the combination."""
    n = _names()
    values_sql, values_params = _combined_sql(round_, only)
    among, among_params = _among("enrollment_id", only)
    na_sql = (
        f"SELECT enrollment_id AS enrollment, item_id AS item FROM {n['score']} "
        f"WHERE round_id = %s{among} GROUP BY enrollment_id, item_id "
        f"HAVING SUM(CASE WHEN not_applicable THEN 0 ELSE 1 END) = 0"
    )
    na_params: list[Any] = [round_.pk, *among_params]
    if Settlement.objects.filter(round=round_).exists():
        unsettled = (
            f"NOT EXISTS (SELECT 1 FROM {n['settlement']} t WHERE t.round_id = %s "
            f"AND t.enrollment_id = c.enrollment AND t.item_id = c.item)"
        )
        settled = (
            f"SELECT enrollment_id AS enrollment, item_id AS item{{value}} "
            f"FROM {n['settlement']} WHERE round_id = %s AND not_applicable = %s{among}"
        )
        values_sql = (
            f"SELECT c.enrollment, c.item, c.value FROM ({values_sql}) c WHERE {unsettled} "
            f"UNION ALL {settled.format(value=', points AS value')}"
        )
        values_params = [*values_params, round_.pk, round_.pk, False, *among_params]
        na_sql = (
            f"SELECT c.enrollment, c.item FROM ({na_sql}) c WHERE {unsettled} "
            f"UNION ALL {settled.format(value='')}"
        )
        na_params = [*na_params, round_.pk, round_.pk, True, *among_params]
    return values_sql, values_params, na_sql, na_params


def _sources(
    round_: AcceptanceRound, only: list[int] | None = None
) -> tuple[str, list[Any], str, list[Any]]:
    """SQL for (enrollment, item, value): the value of every applicable scored item, and for
    (enrollment, item): the items not applicable; a carrying round adds the earlier round's rows
    for the items it did not re-score (no score and no settlement in this round)."""
    n = _names()
    values_sql, values_params, na_sql, na_params = _round_sql(round_, only)
    before = earlier(round_)
    if before is not None:
        old_values, old_values_params, old_na, old_na_params = _round_sql(before, only)
        fresh = (
            f"NOT EXISTS (SELECT 1 FROM {n['score']} s2 WHERE s2.round_id = %s "
            f"AND s2.enrollment_id = o.enrollment AND s2.item_id = o.item)"
        )
        if Settlement.objects.filter(round=round_).exists():
            fresh += (
                f" AND NOT EXISTS (SELECT 1 FROM {n['settlement']} t2 WHERE t2.round_id = %s "
                f"AND t2.enrollment_id = o.enrollment AND t2.item_id = o.item)"
            )
            fresh_params = [round_.pk, round_.pk]
        else:
            fresh_params = [round_.pk]
        values_sql = (
            f"SELECT enrollment, item, value FROM ({values_sql}) n UNION ALL "
            f"SELECT o.enrollment, o.item, o.value FROM ({old_values}) o WHERE {fresh}"
        )
        values_params = [*values_params, *old_values_params, *fresh_params]
        na_sql = (
            f"SELECT enrollment, item FROM ({na_sql}) n UNION ALL "
            f"SELECT o.enrollment, o.item FROM ({old_na}) o WHERE {fresh}"
        )
        na_params = [*na_params, *old_na_params, *fresh_params]
    return values_sql, values_params, na_sql, na_params


def _decimal(value: Any) -> Decimal:
    # SQLite averages in floating point: read the value back to the 0.01 it is recorded at.
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def item_values(
    round_: AcceptanceRound,
    enrollment_id: int | None = None,
    enrollment_ids: list[int] | None = None,
) -> tuple[dict[tuple[int, int], Decimal], set[tuple[int, int]]]:
    """(enrollment, item) -> the item's value in this round (combined, or as settled), and the
    (enrollment, item) pairs not applicable; this round's own records only (no carry-over)."""
    only = enrollment_ids
    if enrollment_id is not None:
        only = [enrollment_id] if only is None else [e for e in only if e == enrollment_id]
    values_sql, values_params, na_sql, na_params = _round_sql(round_, only)
    with reading_connection(Score).cursor() as cursor:
        cursor.execute(values_sql, values_params)
        values = {(e, i): _decimal(v) for e, i, v in cursor.fetchall()}
        cursor.execute(na_sql, na_params)
        na = {(e, i) for e, i in cursor.fetchall()}
    return values, na


def round_results(
    round_: AcceptanceRound, *, detail: bool = False, enrollments: list[int] | None = None
) -> dict[int, Result]:
    """Every community's result in this round, keyed by enrollment id.

    By default the whole round is computed by the database (`_fast`): totals, category
    subtotals, minimums, gates, vetoes, outcome, level and commendation, without the per-item
    lists. `detail=True` (for the given enrollments, or all) feeds each community's points to
    the reference rules, adding every lost point and unscored item. The two agree on everything
    both compute (property-tested).
    """
    if detail or enrollments is not None:
        return _detailed(round_, enrollments)
    return _fast(round_)


def table_of(round_: AcceptanceRound) -> TableInput:
    standard = round_.campaign.standard
    return TableInput(
        total_points=standard.total_points,
        pass_threshold=standard.pass_threshold,
        categories=tuple(
            CategoryInput(c.code, c.points, c.min_points) for c in standard.categories.all()
        ),
        levels=tuple((lv.name, lv.min_score, lv.passing) for lv in standard.levels.all()),
        bonus_cap=standard.bonus_cap,
    )


_table = table_of


def _veto_inputs(round_: AcceptanceRound, only: list[int] | None) -> dict[int, list[VetoInput]]:
    return {
        e: [VetoInput(s.code, s.effect, s.cap_level, s.found_in_round) for s in found]
        for e, found in standing_vetoes.standing(round_, only).items()
    }


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused. A round builds hundreds of thousands of small
    objects (a result, its dictionaries, their decimals per community), none of them in a
    reference cycle: reference counting frees them all, but each 700 allocations the collector
    scans them anyway, and every few thousand the whole heap. At 10,000 communities that was
    half of the Python time of `_fast` (0.16 s of CPU against 0.07 s without it)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _fast(round_: AcceptanceRound, only: list[int] | None = None) -> dict[int, Result]:
    """The whole round (or the given enrollments) in one aggregate query (plus the vetoes, and
    the items not applicable when there are any), whatever its size."""
    with _no_cycle_collection():
        return _fast_results(round_, only)


def _fast_results(round_: AcceptanceRound, only: list[int] | None) -> dict[int, Result]:
    table = table_of(round_)
    standard = round_.campaign.standard
    categories = dict(standard.categories.values_list("pk", "code"))
    codes = list(categories.values())
    items = list(
        standard.items.values_list(
            "pk", "code", "category_id", "points", "kind", "gate_below", "gate_effect", "gate_level"
        )
    )
    values_sql, values_params, na_sql, na_params = _sources(round_, only)
    # Per category: the maximum of its counted items; an excluded not-applicable item leaves
    # it, an applicable item not yet scored stays in it (and makes the result incomplete).
    full: dict[str, Decimal] = dict.fromkeys(codes, ZERO)
    for _pk, _code, category, points, kind, *_gate in items:
        if kind in COUNTED:
            full[categories[category]] += points
    gated = {
        pk: (order, code, below, gate_effect(effect, level))
        for order, (pk, code, _c, _p, _k, below, effect, level) in enumerate(items)
        if effect and below is not None
    }
    with reading_connection(Score).cursor() as cursor:
        cursor.execute(_per_community_sql(values_sql, items, categories, gated), values_params)
        rows = {row[0]: row for row in cursor.fetchall()}
        left_out, full_marks, na_counted = _not_applicable(round_, cursor, na_sql, na_params)
    vetoes = _veto_inputs(round_, only)
    # Most communities mark nothing not applicable: their denominators, and so what each
    # category needs, are the table's own, worked out once.
    full_possible = sum(full.values(), ZERO)
    full_needs = needs_of(table, full)
    none_gained = dict.fromkeys(codes, ZERO)
    gated_order = list(gated.values())
    n_items, n_codes, last = len(items), len(codes), len(CENTS) - 1
    results: dict[int, Result] = {}
    verdicts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    enrollments = round_.campaign.enrollments.values_list("pk", flat=True)
    if only is not None:
        enrollments = enrollments.filter(pk__in=only)
    for enrollment_id in enrollments:
        row = rows.get(enrollment_id)
        if row is None:
            count, all_cents, bonus_cents, penalty_cents = 0, 0, 0, 0
            bonus, penalty, own, gates = ZERO, ZERO, dict(none_gained), []
        else:
            _e, count, all_cents, bonus_cents, penalty_cents, *rest = row
            sums = rest[:n_codes]
            if min(sums) >= 0 and max(sums) <= last:
                own = dict(zip(codes, map(CENTS.__getitem__, sums), strict=True))
            else:
                own = {c: _cents(v) for c, v in zip(codes, sums, strict=True)}
            bonus = _cents(bonus_cents) if bonus_cents else ZERO
            penalty = _cents(penalty_cents) if penalty_cents else ZERO
            gates = _tripped(gated_order, rest[n_codes:]) if gated_order else []
        extra_marks = full_marks.get(enrollment_id)
        if extra_marks:
            own = {c: own[c] + extra_marks.get(c, ZERO) for c in codes}
            gained = sum(own.values(), ZERO) - bonus - penalty
        else:
            gained = _cents(all_cents - (bonus_cents or 0) - (penalty_cents or 0))
        out = left_out.get(enrollment_id)
        if out is None:
            possible, needs = full_possible, full_needs
        else:
            possible_of = {c: full[c] - out.get(c, ZERO) for c in codes}
            possible, needs = sum(possible_of.values(), ZERO), needs_of(table, possible_of)
        below = below_minimum(own, needs)
        standing = vetoes.get(enrollment_id, [])
        incomplete = count + na_counted.get(enrollment_id, 0) < n_items
        # The rules are pure: communities alike in everything they read share one verdict
        # (most of a round: no gate, veto or item not applicable, the same few totals).
        alike = out is None and not gates and not standing
        key = (gained, bonus, penalty, incomplete, tuple(below))
        verdict = verdicts.get(key) if alike else None
        if verdict is None:
            total, counted_bonus = total_of(
                gained, possible, table.total_points, bonus, penalty, table.bonus_cap
            )
            verdict = (
                total,
                counted_bonus,
                *decide(
                    table,
                    total,
                    incomplete=incomplete,
                    below=below,
                    gates=[effect for _c, effect in gates],
                    vetoes=standing,
                ),
            )
            if alike:
                verdicts[key] = verdict
        total, counted_bonus, outcome, level, commendable = verdict
        results[enrollment_id] = Result(
            total=total,
            outcome=outcome,
            level=level,
            category_subtotals=own,
            categories_below_minimum=below,
            possible=possible,
            category_needs=dict(needs),
            commendable=commendable,
            gates=gates,
            vetoes=[(v.code, v.found_in_round) for v in standing],
            bonus=counted_bonus,
            penalty=penalty,
        )
    return results


def _per_community_sql(
    values_sql: str,
    items: list[Any],
    categories: dict[int, str],
    gated: dict[int, Any],
) -> str:
    """One row per community: (enrollment, items valued, all its values, bonus, penalty, one
    column per category, one per gated item), the sums in whole cents as integers (exact on
    both databases, cheap to read).

    One GROUP BY over the (enrollment, item) values, which come out of the score index in
    enrollment order: the database sums each community as the rows stream past, with no
    second grouping per category, no sort and no spill to disk (ADR 33). Each item's value is
    rounded to the cent once, as it is recorded; the categories and kinds are picked by item id
    (a handful of constants), so the items table is not joined."""
    by_category: dict[int, list[int]] = defaultdict(list)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for pk, _code, category, _points, kind, *_gate in items:
        by_category[category].append(int(pk))
        by_kind[kind].append(int(pk))

    def cents_of(pks: list[int]) -> str:
        if not pks:
            return "0"
        return f"SUM(CASE WHEN v.item IN ({', '.join(map(str, pks))}) THEN v.cents ELSE 0 END)"

    columns = [
        "COUNT(*)",
        "SUM(v.cents)",
        cents_of(by_kind[BONUS]),
        cents_of(by_kind[PENALTY]),
        *(cents_of(by_category[pk]) for pk in categories),
        # A gated item's value as combined, compared in Python (`trips`) as the rules do.
        *(f"MAX(CASE WHEN v.item = {int(pk)} THEN v.value END)" for pk in gated),
    ]
    return (
        f"SELECT v.enrollment, {', '.join(columns)} FROM ("
        f"SELECT w.enrollment AS enrollment, w.item AS item, w.value AS value, "
        f"CAST(ROUND(ROUND(w.value, 2) * 100) AS INTEGER) AS cents FROM ({values_sql}) w"
        f") v GROUP BY v.enrollment"
    )


def _tripped(
    gated: list[tuple[int, str, Decimal, str]], values: list[Any]
) -> list[tuple[str, str]]:
    """(item code, effect) of the gates a community's values trip, in the table's order."""
    return [
        (code, effect)
        for (_order, code, threshold, effect), value in zip(gated, values, strict=True)
        if value is not None and trips(_decimal(value), threshold, effect)
    ]


def _not_applicable(
    round_: AcceptanceRound, cursor: Any, na_sql: str, na_params: list[Any]
) -> tuple[dict[int, dict[str, Decimal]], dict[int, dict[str, Decimal]], dict[int, int]]:
    """Per community, the maxima its not-applicable counted items take out of each category
    ('exclude') and add to it ('full'), and how many items it marked not applicable."""
    left_out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    full_marks: dict[int, dict[str, Decimal]] = defaultdict(dict)
    counted: dict[int, int] = defaultdict(int)
    # Items not applicable are rare: a partial index answers "any at all?" at once.
    rounds = [round_.pk]
    before = earlier(round_)
    if before is not None:
        rounds.append(before.pk)
    if not (
        Score.objects.filter(round__in=rounds, not_applicable=True).exists()
        or Settlement.objects.filter(round__in=rounds, not_applicable=True).exists()
    ):
        return left_out, full_marks, counted
    categories = dict(round_.campaign.standard.categories.values_list("pk", "code"))
    cursor.execute(
        f"SELECT n.enrollment, i.category_id, i.kind, i.na_rule, SUM(i.points), "
        f"COUNT(*) FROM ({na_sql}) n JOIN {_names()['item']} i ON i.id = n.item "
        f"GROUP BY n.enrollment, i.category_id, i.kind, i.na_rule",
        na_params,
    )
    for enrollment, category, kind, na_rule, points, count in cursor.fetchall():
        counted[enrollment] += count
        if kind not in COUNTED:
            continue
        into = full_marks if na_rule == "full" else left_out
        code = categories[category]
        into[enrollment][code] = into[enrollment].get(code, ZERO) + _decimal(points)
    return left_out, full_marks, counted


# 0.00 .. 1000.00 made once: a category subtotal is one of these, looked up, not built.
CENTS = [Decimal(n).scaleb(-2) for n in range(100_001)]


def _cents(value: Any) -> Decimal:
    cents = int(value or 0)
    return CENTS[cents] if 0 <= cents < len(CENTS) else Decimal(cents).scaleb(-2)


def _rules_of(round_: AcceptanceRound, enrollment_ids: list[int]) -> dict[int, Rule]:
    """enrollment -> the combining rule of its county's part (the round's own by default)."""
    default = Rule(round_.combine_rule)
    rules = dict.fromkeys(enrollment_ids, default)
    own = parts.other_rules(round_)
    for path, rule in own.items():
        for pk in round_.campaign.enrollments.filter(
            parts.under("community__path", [path]), pk__in=enrollment_ids
        ).values_list("pk", flat=True):
            rules[pk] = Rule(rule)
    return rules


def _raw(
    round_: AcceptanceRound, enrollment_ids: list[int] | None
) -> tuple[
    dict[tuple[int, int], list[Decimal]],
    set[tuple[int, int]],
    dict[tuple[int, int], Decimal | None],
]:
    """One round's records: (enrollment, item) -> the points given (not N/A), the pairs with a
    score at all, and the settlements (None: settled not applicable)."""
    scores = Score.objects.filter(round=round_)
    settlements = Settlement.objects.filter(round=round_)
    if enrollment_ids is not None:
        scores = scores.filter(enrollment_id__in=enrollment_ids)
        settlements = settlements.filter(enrollment_id__in=enrollment_ids)
    points: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    scored: set[tuple[int, int]] = set()
    for e, i, p, na in scores.values_list("enrollment", "item", "points", "not_applicable"):
        scored.add((e, i))
        if not na:
            points[(e, i)].append(p)
    settled = {
        (e, i): (None if na else p)
        for e, i, p, na in settlements.values_list("enrollment", "item", "points", "not_applicable")
    }
    return points, scored, settled


def _detailed(round_: AcceptanceRound, enrollment_ids: list[int] | None) -> dict[int, Result]:
    """Each community's points through the reference rules: every lost point and unscored item
    listed. Items a carrying round did not re-score keep the earlier round's value."""
    standard = round_.campaign.standard
    table = table_of(round_)
    items = list(
        standard.items.values_list(
            "pk",
            "code",
            "category__code",
            "points",
            "kind",
            "na_rule",
            "gate_below",
            "gate_effect",
            "gate_level",
        )
    )
    chosen = round_.campaign.enrollments.all()
    if enrollment_ids is not None:
        # One community's detail reads that community, not the campaign's 110,000 ids.
        chosen = chosen.filter(pk__in=list(enrollment_ids))
    enrollments = list(chosen.values_list("pk", flat=True))
    points, scored, settled = _raw(round_, enrollment_ids)
    rules = _rules_of(round_, enrollments)
    carried: dict[tuple[int, int], Decimal | None] = {}  # the earlier value (None: N/A)
    before = earlier(round_)
    if before is not None:
        old_points, old_scored, old_settled = _raw(before, enrollment_ids)
        old_rules = _rules_of(before, enrollments)
        kinds = {pk: (kind, maximum, code) for pk, code, _c, maximum, kind, *_r in items}
        for key in old_scored | set(old_settled):
            if key in scored or key in settled or key[1] not in kinds:
                continue
            kind, maximum, code = kinds[key[1]]
            old = ItemInput(
                code,
                "",
                maximum,
                tuple(old_points.get(key, ())),
                not old_points.get(key),
                kind=kind,
                settled=old_settled.get(key),
                settled_na=key in old_settled and old_settled[key] is None,
            )
            carried[key] = item_value(old, old_rules.get(key[0], Rule(before.combine_rule)))
    vetoes = _veto_inputs(round_, enrollment_ids)
    results: dict[int, Result] = {}
    for enrollment_id in enrollments:
        inputs = []
        for pk, code, category, maximum, kind, na_rule, below, effect, level in items:
            key = (enrollment_id, pk)
            common: dict[str, Any] = {
                "kind": kind,
                "na_rule": na_rule,
                "gate_below": below,
                "gate_effect": effect,
                "gate_level": level,
            }
            if key in carried:
                value = carried[key]
                inputs.append(
                    ItemInput(
                        code,
                        category,
                        maximum,
                        settled=value,
                        settled_na=value is None,
                        **common,
                    )
                )
                continue
            given = tuple(points.get(key, ()))
            inputs.append(
                ItemInput(
                    code,
                    category,
                    maximum,
                    given,
                    key in scored and not given,
                    settled=settled.get(key),
                    settled_na=key in settled and settled[key] is None,
                    **common,
                )
            )
        results[enrollment_id] = score(
            table,
            inputs,
            vetoes=vetoes.get(enrollment_id, []),
            rule=rules.get(enrollment_id, Rule(round_.combine_rule)),
        )
    return results
