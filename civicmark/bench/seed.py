"""A synthetic province for benchmarks: N communities under towns and counties, the default
standard, one campaign with its rounds, assessors of eight departments, self-assessments and
scores for every item (some items by two assessors), a few percent vetoed.

Rows go in by `executemany` in large batches on one transaction, not one ORM save per row; the
campaign itself is made by the real service (phases, tasks, rounds). Deterministic for a seed.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from civicmark.accounts.models import RoleAssignment, User
from civicmark.assessments.models import SelfScore
from civicmark.campaigns.models import Campaign, Enrollment
from civicmark.campaigns.services import campaign_create
from civicmark.divisions.models import CommunityProfile, Department, Division, Level
from civicmark.scoring.materialize import refresh
from civicmark.scoring.models import Score, VetoFinding
from civicmark.standards.models import Standard

DEPARTMENTS = [
    ("ORG", "组织部"),
    ("PROP", "宣传部"),
    ("CIVIL", "民政局"),
    ("PSB", "公安局"),
    ("FIN", "财政局"),
    ("LABOUR", "劳动局"),
    ("URBAN", "城市管理局"),
    ("FP", "计划生育委员会"),
]
BATCH = 5000


@dataclass
class Seeded:
    campaign: Campaign
    communities: int
    scores: int
    seconds: float
    # Seconds per part of the seed (divisions, campaign, scores, results, statistics...), so a
    # slow seed says where its time went on a shared, noisy machine.
    parts: dict[str, float]


class _Laps:
    def __init__(self) -> None:
        self.parts: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.parts[name] = round(self.parts.get(name, 0.0) + now - self._last, 2)
        self._last = now


def _insert(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Plain multi-row INSERTs through Django's connection (its adapters, its transaction); on
    PostgreSQL one COPY, several times faster for millions of rows."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        return _copy(table, names, rows)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    count = 0
    batch: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _copy(table: str, names: str, rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(  # the psycopg cursor
            f"COPY {table} ({names}) FROM STDIN"  # noqa: S608  (quoted identifiers)
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


@contextmanager
def _bulk_load(*models: type[Model]) -> Iterator[None]:
    """On PostgreSQL, load as pg_restore does: the tables' foreign keys, unique constraints and
    indexes set aside, the rows copied, then each index built and each constraint checked once
    over the whole table (a sort and a join) rather than row by row, all in the seed's own
    transaction: nothing the app needs is left out when it commits. Elsewhere, nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    qn = connection.ops.quote_name
    saved: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = []
    with connection.cursor() as cursor:
        # Deferred checks pending on the tables these reference would block the ALTERs.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname "
                "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _definition in constraints:
                cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {qn(name)}")
            saved.append((table, constraints, indexes))
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, constraints, indexes in saved:
            for _name, definition in indexes:
                cursor.execute(definition)
            # Unique constraints first: their indexes then serve the foreign keys' checks.
            for name, definition in sorted(constraints, key=lambda c: c[1].startswith("FOREIGN")):
                cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _standard() -> Standard:
    from civicmark.standards import formats
    from civicmark.standards.services import standard_import

    found = Standard.objects.filter(slug="demonstration-community", status="published").first()
    if found is not None:
        return found
    data = formats.from_yaml(
        resources.files("civicmark.standards")
        .joinpath("data/demonstration-community.zh.yaml")
        .read_bytes()
    )
    standard, _changed = standard_import(actor=None, data=data, publish=True, via="seed")
    return standard


def seed(communities: int, *, prefix: str = "P", seed: int = 7) -> Seeded:
    started = time.perf_counter()
    lap = _Laps()
    rng = random.Random(seed)  # noqa: S311  (test data, not secrets)
    now = datetime.now(UTC)
    per_town, towns_per_county = 10, 10
    with transaction.atomic():
        province = Division.objects.create(
            code=f"{prefix}00", name=f"{prefix}省", level=Level.CITY, path=f"/{prefix}00/"
        )
        for code, name in DEPARTMENTS:
            Department.objects.get_or_create(
                code=code, defaults={"name": f"省{name}", "division": province}
            )
        standard = _standard()
        n_towns = max(1, -(-communities // per_town))
        n_counties = max(1, -(-n_towns // towns_per_county))
        _insert(
            Division,
            ["code", "name", "level", "parent_id", "path"],
            (
                (
                    f"{prefix}K{k}",
                    f"{prefix}县{k}",
                    Level.COUNTY,
                    province.pk,
                    f"{province.path}{prefix}K{k}/",
                )
                for k in range(n_counties)
            ),
        )
        counties = dict(
            Division.objects.filter(level=Level.COUNTY, path__startswith=province.path).values_list(
                "code", "pk"
            )
        )
        _insert(
            Division,
            ["code", "name", "level", "parent_id", "path"],
            (
                (
                    f"{prefix}T{t}",
                    f"{prefix}镇{t}",
                    Level.TOWN,
                    counties[f"{prefix}K{t // towns_per_county}"],
                    f"{province.path}{prefix}K{t // towns_per_county}/{prefix}T{t}/",
                )
                for t in range(n_towns)
            ),
        )
        towns = dict(
            Division.objects.filter(level=Level.TOWN, path__startswith=province.path).values_list(
                "code", "pk"
            )
        )
        _insert(
            Division,
            ["code", "name", "level", "parent_id", "path"],
            (
                (
                    f"{prefix}{n:06d}",
                    f"{prefix}社区{n}",
                    Level.COMMUNITY,
                    towns[f"{prefix}T{n // per_town}"],
                    f"{province.path}{prefix}K{n // per_town // towns_per_county}/"
                    f"{prefix}T{n // per_town}/{prefix}{n:06d}/",
                )
                for n in range(communities)
            ),
        )
        members = list(
            Division.objects.filter(level=Level.COMMUNITY, path__startswith=province.path)
        )
        lap("divisions")
        _insert(
            CommunityProfile,
            ["division_id", "committee", "households", "residents", "staff", "is_pilot", "note"],
            (
                (d.pk, "", rng.randint(800, 4000), rng.randint(2000, 12000), 9, False, "")
                for d in members
            ),
        )
        lap("profiles")
        campaign = campaign_create(
            actor=None,
            slug=f"{prefix.lower()}-province",
            name=f"{prefix}省示范社区创建（规模测试）",
            year=2026,
            division=province,
            standard=standard,
            communities=members,
            via="seed",
        )
        lap("campaign (service: enrollments, phases, tasks, rounds)")
        assessors: dict[int, list[User]] = {}
        for dept in Department.objects.filter(code__in=[c for c, _n in DEPARTMENTS]):
            pair = []
            for n in range(2):
                user = User.objects.create(
                    username=f"{prefix.lower()}-{dept.code.lower()}-{n}",
                    full_name=f"{dept.name}考核员{n + 1}",
                )
                user.set_unusable_password()
                user.save(update_fields=["password"])
                RoleAssignment.objects.create(
                    user=user, role="assessor", division=province, department=dept
                )
                pair.append(user)
            assessors[dept.pk] = pair
        items = list(standard.items.all())
        enrollments = list(campaign.enrollments.values_list("pk", flat=True))
        Enrollment.objects.filter(campaign=campaign).update(status="reported")
        with _bulk_load(SelfScore, Score):
            _insert(
                SelfScore,
                ["enrollment_id", "item_id", "points", "explanation", "updated_at"],
                ((e, i.pk, i.points, "自评", now) for e in enrollments for i in items),
            )
            lap("self-assessments")
            round2 = campaign.rounds.get(number=2)
            second = {i.pk for i in items if rng.random() < 0.2}  # scored by two assessors

            def scores() -> Iterable[Sequence[Any]]:
                for e in enrollments:
                    weak = rng.random() < 0.15  # a community with real gaps
                    for item in items:
                        for n, user in enumerate(assessors[item.department_id]):
                            if n == 1 and item.pk not in second:
                                continue
                            steps = int(item.points * 2)
                            if weak and rng.random() < 0.5:
                                lost = rng.randint(1, steps)
                            elif rng.random() < 0.25:
                                lost = rng.randint(0, max(1, steps // 3))
                            else:
                                lost = 0
                            points = Decimal(steps - lost) / 2
                            yield (
                                uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4(),
                                round2.pk,
                                e,
                                item.pk,
                                user.pk,
                                points,
                                False,
                                "" if lost == 0 else "现场检查发现不足",
                                1,
                                now,
                            )

            count = _insert(
                Score,
                [
                    "public_id",
                    "round_id",
                    "enrollment_id",
                    "item_id",
                    "assessor_id",
                    "points",
                    "not_applicable",
                    "reason",
                    "version",
                    "updated_at",
                ],
                scores(),
            )
            lap("scores")
            veto = standard.vetoes.first()
            if veto is not None:
                vetoed = rng.sample(enrollments, max(1, len(enrollments) * 3 // 100))
                _insert(
                    VetoFinding,
                    [
                        "public_id",
                        "round_id",
                        "enrollment_id",
                        "veto_id",
                        "assessor_id",
                        "reason",
                        "lifts",
                        "created_at",
                    ],
                    (
                        (
                            uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4(),
                            round2.pk,
                            e,
                            veto.pk,
                            assessors[veto.department_id][0].pk,
                            "发现否决情形",
                            False,
                            now,
                        )
                        for e in vetoed
                    ),
                )
            lap("vetoes")
        lap("indexes and constraints")
        # Bulk inserts bypass the services that keep results current: the first round's refresh
        # recomputes it and every later round.
        refresh(campaign.rounds.order_by("number")[0])
        lap("stored results")
    lap("commit")
    # Fresh statistics, as autovacuum would gather them after a real load: without them the
    # planners guess five rows where there are ten thousand.
    with connection.cursor() as cursor:
        # VACUUM too on PostgreSQL (outside the transaction, as autovacuum would run it): the
        # visibility map lets counts read the indexes alone.
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    lap("statistics")
    # The campaign's figures snapshot (ADR 29): ranks, places and the dashboard, as the task
    # takes them after writes.
    from civicmark.results.snapshots import take

    take(campaign)
    lap("figures snapshot")
    # The overview's figures (ADR 30): the bulk load wrote no audit event to make them behind.
    from civicmark.campaigns import progress

    progress.take(campaign)
    lap("overview snapshot")
    return Seeded(campaign, communities, count, time.perf_counter() - started, lap.parts)
