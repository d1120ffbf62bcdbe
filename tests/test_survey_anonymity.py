"""ADR 9: who answered cannot be recovered from the database.

The attacker here holds the whole database (an administrator, a backup, a leaked dump). The test
plays the same survey twice with the same answers on the same days but given by different
households (world A and world B), and then tries every join the schema allows between the
answer side and the code side: equal values, the same day, the same rank (ids, positions,
timestamps), and on PostgreSQL the transaction that wrote each row (xmin). A join that can tell
world A from world B ties answers to households; none may."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.utils import timezone

from civicmark.core.errors import ApplicationError
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Division
from civicmark.surveys import services as svc
from civicmark.surveys.models import (
    Collector,
    Draw,
    Drawn,
    FrameHousehold,
    Mode,
    PaperEntry,
    Response,
    SurveyRound,
)
from tests.factories import person
from tests.test_surveys import survey  # noqa: F401  (the fixture)

CODE_SIDE: tuple[type[models.Model], ...] = (FrameHousehold, Draw, Drawn, PaperEntry)
ANSWER_SIDE: tuple[type[models.Model], ...] = (Response,)
# What both sides may name: which survey, which community. Each names a whole draw, never a door.
SHARED_CONTEXT = {SurveyRound, Division}
# Time on the code side that is not the time of an answer: when the draw was made (before any).
TIME_ALLOWED = {(Draw, "drawn_at")}

DAY = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
# Five answers: (day, how, answers). The same in both worlds; only the household differs.
SCHEDULE = [
    (0, "door_card", {"Q1": "5", "Q2": "5"}),
    (1, "door_card", {"Q1": "4", "Q2": "3"}),
    (2, "tablet", {"Q1": "2", "Q2": "4"}),
    (3, "paper", {"Q1": "3", "Q2": "2"}),
    (3, "door_card", {"Q1": "9", "Q2": "5"}),  # the same day as the paper form
]
WORLD_A = [0, 1, 2, 3, 4]  # which drawn household (by position) gives each answer
WORLD_B = [3, 0, 4, 1, 2]  # the same answers by other households: no one keeps his answer


class Clock:
    """timezone.now, moved by hand: both worlds see exactly the same instants."""

    def __init__(self) -> None:
        self.at = DAY

    def __call__(self) -> dt.datetime:
        return self.at


def _play(world: Any, households: list[Drawn], order: list[int], clock: Clock) -> None:
    city, clerk = world.users["city_admin"], world.users["clerk2"]
    for step, ((day, how, answers), who) in enumerate(zip(SCHEDULE, order, strict=True)):
        clock.at = DAY + dt.timedelta(days=day, minutes=step)
        code = households[who].code
        if how == "door_card":
            assert svc.answer(code=code, answers=answers).stored
        elif how == "tablet":
            outcome = svc.answer(
                code=code,
                answers=answers,
                mode=Mode.TABLET,
                collector=Collector.THIRD_PARTY,
                actor=city,
                client_id=uuid.UUID(int=day),
            )
            assert outcome.stored
        else:
            svc.paper_enter(actor=city, code=code, answers=answers, collector="third_party")
            status, _ = svc.paper_enter(
                actor=clerk, code=code, answers=answers, collector="third_party"
            )
            assert status == "final"


Row = dict[str, Any]
Snapshot = dict[str, list[Row]]


def _tables() -> list[type[models.Model]]:
    return [*CODE_SIDE, *ANSWER_SIDE, AuditEvent]


def _high_water() -> dict[str, int]:
    return {m._meta.label: m.objects.aggregate(n=models.Max("pk"))["n"] or 0 for m in _tables()}


def _restart_ids(base: dict[str, int]) -> None:
    """PostgreSQL's sequences ignore the rollback between the worlds: each world starts them
    where the first began, so that both number their new rows alike (SQLite rolls back)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for m in _tables():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
                [m._meta.db_table, max(base[m._meta.label], 1), base[m._meta.label] > 0],
            )


def _system_columns() -> dict[tuple[str, int], int]:
    """PostgreSQL: the transaction that last wrote each row (xmin, which any SELECT reads), as a
    rank over every row of the tables compared (the numbers move on between the two worlds; their
    order does not). xmax is left out: in this test every service runs in a savepoint of one
    transaction, where PostgreSQL carries a row's lock (foreign-key checks, FOR UPDATE) over to
    its next version; between real transactions the lock of a finished one is not carried, and
    the rewrite of a draw's codes on each answer leaves them without one."""
    if connection.vendor != "postgresql":
        return {}
    found: list[tuple[str, int, int]] = []
    with connection.cursor() as cursor:
        for m in _tables():
            cursor.execute(f'SELECT id, xmin::text::bigint FROM "{m._meta.db_table}"')  # noqa: S608
            found += [(m._meta.label, pk, xmin) for pk, xmin in cursor.fetchall()]
    rank = {x: n for n, x in enumerate(sorted({xmin for *_, xmin in found}))}
    return {(label, pk): rank[xmin] for label, pk, xmin in found}


def _snapshot(base: dict[str, int]) -> Snapshot:
    """Every column of every row of both sides (and the survey's audit events), with the ids of
    rows made in this world counted from where the world began and random ids (uuid4) blanked."""
    system = _system_columns()
    out: Snapshot = {}
    for m in _tables():
        label, rows = m._meta.label, []
        for obj in m.objects.order_by("pk"):
            row: Row = {}
            for f in m._meta.concrete_fields:
                value = getattr(obj, f.attname)
                if isinstance(value, uuid.UUID) and value.version == 4 and f.name == "public_id":
                    value = "random"
                row[f.attname] = value
            if obj.pk > base[label]:
                row["id"] = f"new+{obj.pk - base[label]}"
            if system:
                row["xmin"] = system[(label, obj.pk)]
            rows.append(row)
        out[label] = rows
    return out


def _world(world: Any, draw: Draw, order: list[int], monkeypatch) -> Any:  # noqa: ANN001
    """Play the schedule with `order`, look at everything, and roll it all back."""
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    households = list(draw.households.filter(in_sample=True).order_by("position"))
    base = _high_water()
    _restart_ids(base)
    point = transaction.savepoint()
    try:
        _play(world, households, order, clock)
        snapshot = _snapshot(base)
        attacks = _join_attacks()
    finally:
        transaction.savepoint_rollback(point)
    truth = {
        _key(answers): households[who].household_id
        for (_day, _how, answers), who in zip(SCHEDULE, order, strict=True)
    }
    return snapshot, attacks, truth


def _key(answers: dict[str, str]) -> str:
    """An answer is known by its content: each of the schedule's is different."""
    return repr(sorted(answers.items()))


# --- The attacker: every join the schema allows ---------------------------------------------


def _kind(field: models.Field) -> str | None:
    if isinstance(field, models.DateTimeField | models.DateField):
        return "time"
    if isinstance(field, models.UUIDField):
        return "uuid"
    if isinstance(field, models.AutoField | models.IntegerField | models.ForeignKey):
        return "number"
    if isinstance(field, models.CharField | models.TextField):
        return "text"
    return None


def _as_day(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


def _to_household(m: type[models.Model]) -> Callable[[Any], set[int]]:
    """From a code-side row to the households it stands for."""
    if m is FrameHousehold:
        return lambda obj: {obj.pk}
    if m is Drawn:
        return lambda obj: {obj.household_id}
    if m is PaperEntry:
        return lambda obj: {obj.drawn.household_id}
    return lambda obj: set(obj.households.values_list("household_id", flat=True))


def _rank(values: list[Any]) -> list[int | None]:
    order = {v: n for n, v in enumerate(sorted({v for v in values if v is not None}))}
    return [order.get(v) if v is not None else None for v in values]


def _join_attacks() -> dict[str, dict[str, frozenset[int]]]:
    """For each pair (answer field, code-side field) of compatible kinds and each way of joining
    them (same value, same day, same rank), the households each answer is joined to."""
    responses = list(Response.objects.order_by("pk"))
    attacks: dict[str, dict[str, frozenset[int]]] = {}
    for a_model, c_model in itertools.product(ANSWER_SIDE, CODE_SIDE):
        rows = list(c_model.objects.all())
        households = _to_household(c_model)
        row_households = [households(obj) for obj in rows]
        for fa, fc in itertools.product(
            a_model._meta.concrete_fields, c_model._meta.concrete_fields
        ):
            kind = _kind(fa)
            if kind is None or kind != _kind(fc):
                continue
            a_values = [getattr(r, fa.attname) for r in responses]
            c_values = [getattr(obj, fc.attname) for obj in rows]
            ways: dict[str, tuple[list[Any], list[Any]]] = {
                "=": (a_values, c_values),
            }
            if kind == "time":
                ways["same day"] = ([_as_day(v) for v in a_values], [_as_day(v) for v in c_values])
            if kind in ("time", "number"):
                ways["same rank"] = (
                    _rank([_as_day(v) for v in a_values]),
                    _rank([_as_day(v) for v in c_values]),
                )
            for way, (left, right) in ways.items():
                name = f"{a_model.__name__}.{fa.name} {way} {c_model.__name__}.{fc.name}"
                attacks[name] = {
                    _key(r.answers): frozenset(
                        h
                        for value, hs in zip(right, row_households, strict=True)
                        if value is not None and value == left[n]
                        for h in hs
                    )
                    for n, r in enumerate(responses)
                }
    return attacks


# --- The tests ------------------------------------------------------------------------------


def _related_models(model: type[models.Model]) -> set[type[models.Model]]:
    return {
        f.related_model  # type: ignore[misc]
        for f in model._meta.get_fields()
        if f.is_relation and f.related_model is not None
    }


def test_it_has_no_relation_between_an_answer_and_a_code_or_a_household():
    for model in ANSWER_SIDE:
        assert _related_models(model) <= SHARED_CONTEXT, model
    for model in CODE_SIDE:
        assert not _related_models(model) & set(ANSWER_SIDE), model


def test_it_keeps_no_time_of_answering_on_the_code_side():
    """A date on the code side is the finding itself: on a day with one answer in a community,
    joining it with the answer's date names the flat."""
    for model in CODE_SIDE:
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateField | models.DateTimeField):
                assert (model, f.name) in TIME_ALLOWED, f"{model.__name__}.{f.name}"
                assert not getattr(f, "auto_now", False), f"{model.__name__}.{f.name}"


def test_no_join_of_the_schema_tells_who_gave_which_answer(survey, world, monkeypatch):  # noqa: F811
    draw = svc.draw_households(
        actor=world.users["city_admin"], survey=survey["survey"], community=world.d["C111"]
    )
    world.users["clerk2"] = person("clerk2", "city_admin", world.d["C"])  # the second keying
    snap_a, attacks_a, truth_a = _world(world, draw, WORLD_A, monkeypatch)
    snap_b, attacks_b, truth_b = _world(world, draw, WORLD_B, monkeypatch)
    assert truth_a != truth_b  # the worlds really differ: every answer has another household
    assert len(snap_a[Response._meta.label]) == len(SCHEDULE)
    assert set(attacks_a) == set(attacks_b) and len(attacks_a) > 20
    telling = sorted(
        f"{name} tells the worlds apart (and joins "
        f"{sum(1 for k in truth_a if attacks_a[name][k] == {truth_a[k]})} of "
        f"{len(truth_a)} answers to their household)"
        for name in attacks_a
        if attacks_a[name] != attacks_b[name]
    )
    assert telling == [], "\n".join(telling)
    # And beyond the joins tried: the code side, the answers and the audit trail are the same
    # row for row and column for column whichever household gave which answer.
    for label in snap_a:
        assert snap_a[label] == snap_b[label], label


def test_the_product_still_knows_which_codes_were_used_and_counts_answers(survey, world):  # noqa: F811
    draw = svc.draw_households(
        actor=world.users["city_admin"], survey=survey["survey"], community=world.d["C111"]
    )
    first, second = list(draw.households.filter(in_sample=True).order_by("position"))[:2]
    assert svc.answer(code=first.code, answers={"Q1": "5", "Q2": "5"}).stored
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.used and not second.used
    assert not svc.answer(code=first.code, answers={"Q1": "2", "Q2": "2"}).stored
    assert Response.objects.filter(survey=survey["survey"], community=world.d["C111"]).count() == 1
    # A used code cannot be replaced from the reserve; an unused one can.
    with pytest.raises(ApplicationError):
        svc.substitute(actor=world.users["city_admin"], drawn=first, reason="refused")
    assert svc.substitute(actor=world.users["city_admin"], drawn=second, reason="refused")


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_which_codes_were_used_and_drops_when():
    """Data already stored: a dated code becomes a used one without its date, and the emptied
    keyings of finalised paper forms go."""
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("surveys", "0001_initial"), ("surveys", "0002_codes_without_time")
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        ids = _old_survey_rows(old)
        executor = MigrationExecutor(connection)
        executor.migrate([after])
        new = executor.loader.project_state([after]).apps
        drawn = new.get_model("surveys", "Drawn")
        assert set(drawn.objects.filter(used=True).values_list("pk", flat=True)) == {ids["used"]}
        assert not drawn.objects.get(pk=ids["unused"]).used
        assert {f.name for f in drawn._meta.get_fields()} >= {"used"}
        assert "used_at" not in {f.name for f in drawn._meta.get_fields()}
        keyings = new.get_model("surveys", "PaperEntry").objects.values_list("pk", flat=True)
        assert list(keyings) == [ids["open_keying"]]  # a form still being keyed keeps its keying
        with connection.cursor() as cursor:
            columns = {
                c.name
                for c in connection.introspection.get_table_description(cursor, "surveys_drawn")
            }
        assert "used_at" not in columns
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)


def _old_survey_rows(apps: Any) -> dict[str, int]:
    """A draw of two codes, one used on a date, and a finalised and an open paper keying, made
    with the models as they were before the migration."""
    from tests.factories import build_world, small_standard

    world = build_world()
    standard = small_standard(world)
    from civicmark.campaigns.services import campaign_create

    campaign = campaign_create(
        actor=None, slug="m", name="m", year=2026, division=world.d["C"], standard=standard
    )
    Instrument = apps.get_model("surveys", "Instrument")
    SurveyRound_ = apps.get_model("surveys", "SurveyRound")
    Household = apps.get_model("surveys", "FrameHousehold")
    Draw_ = apps.get_model("surveys", "Draw")
    Drawn_ = apps.get_model("surveys", "Drawn")
    Entry = apps.get_model("surveys", "PaperEntry")
    instrument = Instrument.objects.create(standard_id=standard.pk, slug="s", name="s")
    survey_ = SurveyRound_.objects.create(
        round_id=campaign.rounds.get(number=2).pk, instrument=instrument
    )
    community = world.d["C111"].pk
    draw = Draw_.objects.create(
        survey=survey_,
        community_id=community,
        seed="x",
        method="simple",
        frame_snapshot=[],
        drawn_at=timezone.now(),
    )
    homes = [
        Household.objects.create(community_id=community, estate="e", building="b", door=str(n))
        for n in (1, 2)
    ]
    used = Drawn_.objects.create(
        draw=draw,
        household=homes[0],
        slot="sample",
        position=1,
        code="USED0001",
        in_sample=True,
        used_at=dt.date(2026, 6, 1),
    )
    unused = Drawn_.objects.create(
        draw=draw, household=homes[1], slot="sample", position=2, code="OPEN0001", in_sample=True
    )
    clerk = world.users["city_admin"].pk
    Entry.objects.create(drawn=used, clerk_id=clerk, answers={}, collector="x", final=True)
    open_keying = Entry.objects.create(
        drawn=unused, clerk_id=clerk, answers={"Q1": "5"}, collector="x"
    )
    return {"used": used.pk, "unused": unused.pk, "open_keying": open_keying.pk}
