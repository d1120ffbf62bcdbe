"""A whole round's results, computed by the database.

Each item's assessor points are combined in one aggregate query (mean, minimum, or a median
written so that SQLite and PostgreSQL compute it alike); a second aggregate over those rows sums
them per community and category. Python then only divides and compares a handful of numbers per
community. The detailed path (every lost point) applies the reference rules in
`results.scoring` item by item; property tests hold the two paths and the reference equal.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery

from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound
from civicmark.scoring.models import Score, VetoFinding
from civicmark.scoring.rules import (
    CENT,
    CategoryInput,
    ItemInput,
    Result,
    Rule,
    TableInput,
    score,
)


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


def combined_groups(
    round_: AcceptanceRound,
    enrollment_id: int | None = None,
    enrollment_ids: list[int] | None = None,
) -> list[QuerySet[Any]]:
    """`combined_points` once per combining rule in force in the round (usually one)."""
    return [
        combined_points(round_, enrollment_id, enrollment_ids, rule=rule, where=where)
        for rule, where in rule_groups(round_)
    ]


def combined_points(
    round_: AcceptanceRound,
    enrollment_id: int | None = None,
    enrollment_ids: list[int] | None = None,
    *,
    rule: Rule | None = None,
    where: Q | None = None,
) -> QuerySet[Any]:
    """(enrollment, item, value) for every item with at least one score that is not 'not
    applicable', combined by `rule` (the round's own by default) over the scores `where` picks."""
    base = Score.objects.filter(round=round_, not_applicable=False)
    if where is not None:
        base = base.filter(where)
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


def item_values(
    round_: AcceptanceRound,
    enrollment_id: int | None = None,
    enrollment_ids: list[int] | None = None,
) -> tuple[dict[tuple[int, int], Decimal], set[tuple[int, int]]]:
    """(enrollment, item) -> combined points, and the (enrollment, item) pairs marked not applicable."""
    values = {
        # SQLite averages in floating point: read the value back to the 0.01 it is recorded at.
        (r["enrollment"], r["item"]): Decimal(str(r["value"])).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for group in combined_groups(round_, enrollment_id, enrollment_ids)
        for r in group
    }
    scores = Score.objects.filter(round=round_)
    if enrollment_id is not None:
        scores = scores.filter(enrollment_id=enrollment_id)
    if enrollment_ids is not None:
        scores = scores.filter(enrollment_id__in=enrollment_ids)
    scored = scores.values("enrollment", "item").annotate(
        n=Count("id"), na=Count("id", filter=Q(not_applicable=True))
    )
    return values, {(r["enrollment"], r["item"]) for r in scored if r["n"] == r["na"]}


def _veto_counts(round_: AcceptanceRound) -> dict[int, int]:
    return dict(
        VetoFinding.objects.filter(round=round_)
        .values("enrollment")
        .annotate(n=Count("id"))
        .values_list("enrollment", "n")
    )


def round_results(
    round_: AcceptanceRound, *, detail: bool = False, enrollments: list[int] | None = None
) -> dict[int, Result]:
    """Every community's result in this round, keyed by enrollment id.

    By default the whole round is computed by the database (`_fast`): totals, category
    subtotals, minimums, vetoes, outcome and level, without the per-item lists. `detail=True`
    (for the given enrollments, or all) adds every lost point and unscored item, item by item
    through the reference rules. The two agree on everything both compute (property-tested).
    """
    if detail or enrollments is not None:
        return _detailed(round_, enrollments)
    return _fast(round_)


def _table(round_: AcceptanceRound) -> TableInput:
    standard = round_.campaign.standard
    return TableInput(
        total_points=standard.total_points,
        pass_threshold=standard.pass_threshold,
        categories=tuple(
            CategoryInput(c.code, c.points, c.min_points) for c in standard.categories.all()
        ),
        levels=tuple((lv.name, lv.min_score) for lv in standard.levels.all()),
    )


def _sources(
    round_: AcceptanceRound, only: list[int] | None = None
) -> tuple[str, list[Any], str, list[Any]]:
    """SQL for (enrollment, item, value): the combined points of every applicable item, and for
    (enrollment, item): the items marked not applicable by every assessor; a carrying round adds
    the earlier round's rows for the items it did not re-score."""
    score = Score._meta.db_table
    values_sql, values_params = _combined_sql(round_, only)
    among = f" AND enrollment_id IN ({', '.join(['%s'] * len(only))})" if only else ""
    na_sql = (
        f"SELECT enrollment_id AS enrollment, item_id AS item FROM {score} "
        f"WHERE round_id = %s{among} GROUP BY enrollment_id, item_id "
        f"HAVING SUM(CASE WHEN not_applicable THEN 0 ELSE 1 END) = 0"
    )
    na_params: list[Any] = [round_.pk, *(only or [])]
    earlier = _earlier(round_)
    if earlier is not None:
        old_sql, old_params = _combined_sql(earlier, only)
        fresh = (
            f"NOT EXISTS (SELECT 1 FROM {score} s2 WHERE s2.round_id = %s "
            f"AND s2.enrollment_id = o.enrollment AND s2.item_id = o.item)"
        )
        values_sql = (
            f"SELECT enrollment, item, value FROM ({values_sql}) n UNION ALL "
            f"SELECT o.enrollment, o.item, o.value FROM ({old_sql}) o WHERE {fresh}"
        )
        values_params = [*values_params, *old_params, round_.pk]
        na_sql = (
            f"SELECT enrollment, item FROM ({na_sql}) n UNION ALL "
            f"SELECT o.enrollment, o.item FROM ({na_sql}) o WHERE {fresh}"
        )
        na_params = [round_.pk, *(only or []), earlier.pk, *(only or []), round_.pk]
    return values_sql, values_params, na_sql, na_params


def _combined_sql(round_: AcceptanceRound, only: list[int] | None) -> tuple[str, list[Any]]:
    """The SQL of (enrollment, item, value) under every rule in force in the round."""
    compiled = [
        group.query.sql_with_params() for group in combined_groups(round_, enrollment_ids=only)
    ]
    if len(compiled) == 1:
        return compiled[0][0], list(compiled[0][1])
    sql = " UNION ALL ".join(
        f"SELECT g{n}.enrollment, g{n}.item, g{n}.value FROM ({text}) g{n}"
        for n, (text, _params) in enumerate(compiled)
    )
    return sql, [p for _text, params in compiled for p in params]


def _fast(round_: AcceptanceRound, only: list[int] | None = None) -> dict[int, Result]:
    """The whole round (or the given enrollments) in two aggregate queries (plus vetoes),
    whatever its size."""
    from django.db import connection

    from civicmark.scoring.rules import Outcome
    from civicmark.standards.models import Item

    table = _table(round_)
    standard = round_.campaign.standard
    categories = dict(standard.categories.values_list("pk", "code"))
    n_items = standard.items.count()
    values_sql, values_params, na_sql, na_params = _sources(round_, only)
    item = Item._meta.db_table
    # Per category: the points of its items; an item every assessor marked not applicable
    # leaves the denominator, an applicable item not yet scored stays in it (and makes the
    # result incomplete).
    full: dict[str, Decimal] = defaultdict(Decimal)
    for code, points in standard.items.values_list("category__code", "points"):
        full[code] += points
    gained_by: dict[int, dict[str, Decimal]] = {}
    left_out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    counted: dict[int, int] = {}
    codes = list(categories.values())
    # One row per community, one column per category (conditional sums): ten times fewer rows
    # to read than one per community and category.
    # Whole cents as integers: exact on both databases, and cheap to read (a NUMERIC column
    # is parsed from text for every value).
    per_category = ", ".join(
        f"SUM(CASE WHEN c.category = {int(pk)} THEN c.cents ELSE 0 END)" for pk in categories
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.enrollment, SUM(c.n), {per_category} FROM ("
            f"SELECT v.enrollment AS enrollment, i.category_id AS category, "
            f"CAST(ROUND(SUM(ROUND(v.value, 2)) * 100) AS INTEGER) AS cents, COUNT(*) AS n "
            f"FROM ({values_sql}) v JOIN {item} i ON i.id = v.item "
            f"GROUP BY v.enrollment, i.category_id) c GROUP BY c.enrollment",
            values_params,
        )
        for enrollment, n, *sums in cursor.fetchall():
            counted[enrollment] = n
            gained_by[enrollment] = {
                code: CENTS[cents] if 0 <= cents < len(CENTS) else Decimal(cents).scaleb(-2)
                for code, cents in zip(codes, sums, strict=True)
            }
        # Items marked not applicable are rare: a partial index answers "any at all?" at once.
        rounds = [round_.pk]
        earlier = _earlier(round_)
        if earlier is not None:
            rounds.append(earlier.pk)
        na_rows: list[Any] = []
        if Score.objects.filter(round__in=rounds, not_applicable=True).exists():
            cursor.execute(
                f"SELECT n.enrollment, i.category_id, SUM(i.points), COUNT(*) "
                f"FROM ({na_sql}) n JOIN {item} i ON i.id = n.item "
                f"GROUP BY n.enrollment, i.category_id",
                na_params,
            )
            na_rows = cursor.fetchall()
        for enrollment, category, points, n in na_rows:
            left_out[enrollment][categories[category]] = Decimal(str(points))
            counted[enrollment] = counted.get(enrollment, 0) + n
    vetoes = _vetoes(round_)
    maxima = [c.code for c in table.categories]
    minimums = [
        (c.code, c.min_points, c.points) for c in table.categories if c.min_points is not None
    ]
    levels = sorted(((m, n) for n, m in table.levels), reverse=True)
    zero = Decimal(0)
    none_gained = dict.fromkeys(maxima, zero)
    full_possible = sum(full.values(), zero)
    results: dict[int, Result] = {}
    enrollments = round_.campaign.enrollments.values_list("pk", flat=True)
    if only is not None:
        enrollments = enrollments.filter(pk__in=only)
    for enrollment_id in enrollments:
        own = gained_by.get(enrollment_id, none_gained)
        out = left_out.get(enrollment_id)
        # Most communities mark nothing not applicable: their denominators are the table's own.
        possible_of = full if out is None else {c: full[c] - out.get(c, zero) for c in maxima}
        gained = sum(own.values(), zero)
        possible = full_possible if out is None else sum(possible_of.values(), zero)
        total = (
            (gained / possible * table.total_points).quantize(CENT, rounding=ROUND_HALF_UP)
            if possible
            else zero
        )
        needs = {
            code: minimum * possible_of[code] / points
            for code, minimum, points in minimums
            if possible_of[code]
        }
        below = [code for code, need in needs.items() if own.get(code, zero) < need]
        if counted.get(enrollment_id, 0) < n_items:
            outcome = Outcome.INCOMPLETE
        elif vetoes.get(enrollment_id):
            outcome = Outcome.VETOED
        elif total < table.pass_threshold or below:
            outcome = Outcome.NOT_REACHED
        else:
            outcome = Outcome.STANDARD
        level = None
        if outcome == Outcome.STANDARD:
            level = next((name for minimum, name in levels if total >= minimum), None)
        results[enrollment_id] = Result(
            total=total,
            outcome=outcome,
            level=level,
            category_subtotals=own if own is not none_gained else dict(none_gained),
            categories_below_minimum=[c for c in maxima if c in below],
            possible=possible,
            category_needs=needs,
        )
    return results


# 0.00 .. 1000.00 made once: a category subtotal is one of these, looked up, not built.
CENTS = [Decimal(n).scaleb(-2) for n in range(100_001)]


def _earlier(round_: AcceptanceRound) -> AcceptanceRound | None:
    """The round whose scores this one carries over, if any."""
    if not round_.carries_from:
        return None
    return round_.campaign.rounds.filter(number=round_.carries_from).first()


def _vetoes(round_: AcceptanceRound) -> dict[int, int]:
    """Veto findings per enrollment; in a carrying round, a community it has not looked at yet
    keeps the earlier round's findings."""
    vetoes = _veto_counts(round_)
    earlier = _earlier(round_)
    if earlier is not None:
        assessed = set(
            Score.objects.filter(round=round_).values_list("enrollment", flat=True).distinct()
        )
        assessed |= set(vetoes)
        vetoes |= {k: v for k, v in _veto_counts(earlier).items() if k not in assessed}
    return vetoes


def _detailed(round_: AcceptanceRound, enrollment_ids: list[int] | None) -> dict[int, Result]:
    """Item by item through the reference rules: every lost point and unscored item listed."""
    standard = round_.campaign.standard
    table = TableInput(
        total_points=standard.total_points,
        pass_threshold=standard.pass_threshold,
        categories=tuple(
            CategoryInput(c.code, c.points, c.min_points) for c in standard.categories.all()
        ),
        levels=tuple((lv.name, lv.min_score) for lv in standard.levels.all()),
    )
    items = list(
        standard.items.select_related("category").values_list(
            "pk", "code", "category__code", "points"
        )
    )
    values, not_applicable = item_values(round_, enrollment_ids=enrollment_ids)
    earlier = None
    if round_.carries_from:
        # Items this round did not re-score keep what the earlier round gave them.
        earlier = _earlier(round_)
        if earlier is not None:
            old_values, old_na = item_values(earlier, enrollment_ids=enrollment_ids)
            rescored = set(values) | not_applicable
            values = {**{k: v for k, v in old_values.items() if k not in rescored}, **values}
            not_applicable = not_applicable | {k for k in old_na if k not in rescored}
    vetoes = _vetoes(round_)
    results: dict[int, Result] = {}
    by_enrollment: dict[int, list[ItemInput]] = defaultdict(list)
    enrollments = round_.campaign.enrollments.values_list("pk", flat=True)
    if enrollment_ids is not None:
        enrollments = enrollments.filter(pk__in=enrollment_ids)
    for enrollment_id in enrollments:
        for pk, code, category, max_points in items:
            key = (enrollment_id, pk)
            value = values.get(key)
            by_enrollment[enrollment_id].append(
                ItemInput(
                    code,
                    category,
                    max_points,
                    () if value is None else (value,),
                    key in not_applicable,
                )
            )
        results[enrollment_id] = score(
            table, by_enrollment[enrollment_id], vetoes=vetoes.get(enrollment_id, 0)
        )
    return results
