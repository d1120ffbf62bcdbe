"""Keeps `CommunityResult` equal to the live computation, cheaply on both sides.

A change (a score, a veto finding or lift, an imported sheet, a settlement) marks the
communities it touches as stale, in its own transaction, for its round and every later round of
the campaign (a veto found in round n stands in every later round, and a later round may carry
scores over from this one), never an earlier one: one insert. The next read of the round (`current`) recomputes just the stale communities with the
round's aggregate queries limited to them, and clears the marks in the same transaction. A
round with missing rows (a new campaign, data loaded in bulk) or a changed combining rule is
recomputed whole.

Concurrency: the reader deletes the marks it takes before recomputing; a change that commits
meanwhile either is visible to the recomputation or re-marks the community after the reader
commits (the unique mark waits on the deleted row), so no change is ever left unmarked.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F, Sum

from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core.inserts import insert_rows
from civicmark.core.replicas import primary
from civicmark.scoring import disagreements
from civicmark.scoring.models import CommunityResult, RoundTally, StaleResult
from civicmark.scoring.rounds import _fast

MARK_SQL = (
    "INSERT INTO {stale} (round_id, enrollment_id) SELECT r.id, e.id FROM {rounds} r, "
    "{enrollments} e WHERE r.campaign_id = %s AND r.number >= %s "
    "AND e.campaign_id = %s AND e.id IN ({ids}) ON CONFLICT DO NOTHING"
)


WHOLE_PAST = 5000  # stale communities past which the round is recomputed whole

RESULT_COLUMNS = (
    "round_id",
    "enrollment_id",
    "total",
    "outcome",
    "level",
    "commendable",
    "subtotals",
    "below_minimum",
    "gates",
    "vetoes",
    "possible",
    "assessed",
    "scored",
    "rank",
    "position",
    "disagreements",
)


def mark(round_: AcceptanceRound, enrollment_ids: Iterable[int]) -> None:
    ids = sorted(set(enrollment_ids))
    if not ids:
        return
    round_.__dict__.pop("_results_current", None)  # this object must look again
    # One statement marks the communities in this round and in every later round of the
    # campaign (a score save runs this on every request: no separate look-up of the rounds).
    # Portable SQL: SQLite and PostgreSQL both read INSERT ... SELECT ... WHERE ... ON CONFLICT.
    # Identifiers come from the models' metadata, quoted by the connection; values are bound.
    qn = connection.ops.quote_name
    names = {
        "stale": qn(StaleResult._meta.db_table),
        "rounds": qn(AcceptanceRound._meta.db_table),
        "enrollments": qn(Enrollment._meta.db_table),
    }
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = MARK_SQL.format(ids=", ".join(["%s"] * len(chunk)), **names)  # noqa: S608
            cursor.execute(
                sql,
                [round_.campaign_id, round_.number, round_.campaign_id, *chunk],
            )


def current(round_: AcceptanceRound) -> None:
    """Bring the round's stored results up to date before it is read (checked once per request:
    the answer is kept on the round object the request holds)."""
    if round_.__dict__.get("_results_current"):
        return
    round_.__dict__["_results_current"] = True
    # Asked of the primary even where the page reads from a replica (ADR 27): a replica a
    # moment behind would answer "nothing stale" about a change just made.
    with primary():
        missing = _newest_stored(round_) != _newest_enrolled(round_)
        waiting = not missing and StaleResult.objects.filter(round=round_).exists()
    if missing:
        refresh(round_)
        return
    if not waiting:
        return
    with transaction.atomic():
        stale = list(
            StaleResult.objects.select_for_update()
            .filter(round=round_)
            .values_list("pk", "enrollment_id")
        )
        taken = [pk for pk, _e in stale]
        for start in range(0, len(taken), 500):  # bounded IN lists, as `mark` writes them
            StaleResult.objects.filter(pk__in=taken[start : start + 500]).delete()
        marked = sorted({e for _pk, e in stale})
        # Many marks (a migration that marked every row) are one whole recomputation, not an
        # IN list of a province.
        _write(round_, None if len(marked) > WHOLE_PAST else marked)


def _newest_enrolled(round_: AcceptanceRound) -> int | None:
    found: int | None = (
        Enrollment.objects.filter(campaign_id=round_.campaign_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return found


def _newest_stored(round_: AcceptanceRound) -> int | None:
    """Rows are missing when the newest enrollment has none (a new campaign, a community
    enrolled late: enrollments only ever get larger ids; a row is never deleted alone). Two
    index look-ups (ADR 29), not two counts of a country's round per request."""
    found: int | None = (
        CommunityResult.objects.filter(round=round_)
        .order_by("-enrollment_id")
        .values_list("enrollment_id", flat=True)
        .first()
    )
    return found


def refresh(round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None) -> int:
    """Recompute now: the given communities (or the whole round), here and in every later round
    of the campaign."""
    only = None if enrollment_ids is None else sorted(set(enrollment_ids))
    if only == []:
        return 0
    round_.__dict__.pop("_bands", None)
    written = 0
    with transaction.atomic():
        for target in [round_, *round_.campaign.rounds.filter(number__gt=round_.number)]:
            stale = StaleResult.objects.filter(round=target)
            (stale if only is None else stale.filter(enrollment_id__in=only)).delete()
            written += _write(target, only)
    return written


def _write(round_: AcceptanceRound, only: list[int] | None) -> int:
    if only == []:
        return 0
    from django.db.models import Count

    from civicmark.scoring.models import Score, VetoFinding

    results = _fast(round_, only)
    touched = Score.objects.filter(round=round_)
    found = VetoFinding.objects.filter(round=round_)
    if only is not None:
        touched, found = touched.filter(enrollment__in=only), found.filter(enrollment__in=only)
    scored: dict[int, dict[str, int]] = {}
    for pk, dept, n in (
        touched.order_by()
        .values_list("enrollment", "item__department")
        .annotate(n=Count("item", distinct=True))
    ):
        scored.setdefault(pk, {})[f"d{dept}"] = n  # "d3", not "3": a digit key reads as an index
    assessed = set(scored)
    assessed |= set(found.values_list("enrollment", flat=True))
    rows = CommunityResult.objects.filter(round=round_)
    if only is not None:
        rows = rows.filter(enrollment_id__in=only)
    # A recomputed row keeps its place in the ranking until the next figures snapshot (ADR 29).
    places = {
        e: (rank, position)
        for e, rank, position in rows.filter(position__isnull=False).values_list(
            "enrollment_id", "rank", "position"
        )
    }
    # The open disagreements by the one rule, for the same communities, and the difference they
    # make to the round's total (ADR 31).
    open_counts = disagreements.counts(round_, only)
    before = 0 if only is None else rows.aggregate(n=Sum("disagreements"))["n"] or 0
    rows.delete()
    # Many rows (a whole round: 110,000) in one executemany, not bulk_create's model per row.
    insert_rows(
        CommunityResult,
        RESULT_COLUMNS,
        (
            (
                round_.pk,
                pk,
                r.total,
                str(r.outcome),
                r.level or "",
                r.commendable,
                {k: str(v) for k, v in r.category_subtotals.items()},
                list(r.categories_below_minimum),
                [{"item": code, "effect": effect} for code, effect in r.gates],
                [{"code": code, "found_in_round": n} for code, n in r.vetoes],
                r.possible,
                pk in assessed,
                scored.get(pk, {}),
                *places.get(pk, (None, None)),
                open_counts.get(pk, 0),
            )
            for pk, r in results.items()
        ),
    )
    _tally(round_, sum(open_counts.get(pk, 0) for pk in results) - before, whole=only is None)
    return len(results)


def _tally(round_: AcceptanceRound, change: int, *, whole: bool) -> None:
    """Keep the round's total of open disagreements with its rows, in their transaction: set by
    a whole recomputation, moved by a partial one (an UPDATE adding the difference: two
    recomputations of different communities add theirs in turn). A round without a total yet
    gets the sum of its rows, read in this transaction after they were written."""
    if whole:
        RoundTally.objects.update_or_create(round=round_, defaults={"disagreements": change})
        return
    if RoundTally.objects.filter(round=round_).update(disagreements=F("disagreements") + change):
        return
    total = CommunityResult.objects.filter(round=round_).aggregate(n=Sum("disagreements"))["n"] or 0
    RoundTally.objects.get_or_create(round=round_, defaults={"disagreements": total})
