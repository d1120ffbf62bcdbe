"""Dashboards and exports read from the replica; writes, and reads inside a write, never do
(issue 19 item 3, ADR 27).

The replica here is a second alias on the test database itself (test settings: TEST MIRROR
"default"; read-only sessions on PostgreSQL), switched on by the setting, so every query is seen
on the connection it was sent through. The tests are transactional: a second connection sees only
what is committed, as a real replica does.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openpyxl import load_workbook

from civicmark.accounts.models import User
from civicmark.core.models import AuditEvent
from civicmark.core.replicas import primary, replica_reads
from civicmark.results import jobs
from civicmark.results.models import ExportJob
from civicmark.scoring import materialize
from tests.test_foundation import ROOT, _production_env

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# What the primary still answers for a page read from the replica: the request's sign-in (the
# middleware runs before the view) and the check that the stored results are current.
SIGN_IN = ('FROM "django_session"', 'FROM "accounts_user"', 'FROM "accounts_roleassignment"')
# Whether the stored results are current (the newest enrollment and the newest stored row, then
# any stale mark) and whether the figures snapshot is behind (an audited write since): ADR 29.
FRESHNESS = re.compile(
    r'^SELECT ("campaigns_enrollment"."id" FROM "campaigns_enrollment"'
    r'|"results_communityresult"."enrollment_id" FROM "results_communityresult"'
    r'|1 AS "a" FROM "(results_staleresult|core_auditevent)")'
)


@pytest.fixture
def replica(settings):  # noqa: ANN001, ANN201
    settings.CIVICMARK_READ_REPLICA = "replica"


@contextmanager
def seen() -> Iterator[dict[str, list[str]]]:
    """The SQL sent through each connection inside the block."""
    found: dict[str, list[str]] = {}
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        yield found
    found["default"] = [q["sql"] for q in default.captured_queries]
    found["replica"] = [q["sql"] for q in replica.captured_queries]


def is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(WRITES)


def signed_in(client, username: str):  # noqa: ANN001, ANN201
    client.force_login(User.objects.get(username=username))
    client.get("/health/")  # the sign-in policy's first-request bookkeeping, not counted
    return client


def test_it_reads_the_dashboard_from_the_replica_and_adds_no_query(demo, client, settings):
    client = signed_in(client, "city")
    url = reverse("dashboard", args=[demo.slug]) + "?round=2"
    client.get(url)
    with seen() as off:
        assert client.get(url).status_code == 200
    settings.CIVICMARK_READ_REPLICA = "replica"
    with seen() as on:
        assert client.get(url).status_code == 200

    assert off["replica"] == []  # without the setting nothing goes there
    assert len(on["replica"]) >= 5
    assert not any(is_write(sql) for sql in on["replica"])
    # Every read went: the primary kept the sign-in and the freshness checks only.
    kept = [sql for sql in on["default"] if not any(t in sql for t in SIGN_IN)]
    assert kept and all(FRESHNESS.match(sql) for sql in kept), kept
    # The city sees the whole campaign: its charts are read from the figures snapshot (ADR 29).
    assert any('"results_figuressnapshot"' in sql for sql in on["replica"])
    # The router moves queries, it adds none.
    assert len(on["default"]) + len(on["replica"]) == len(off["default"])


@pytest.mark.parametrize(
    ("name", "query"),
    [("dashboard", "?chart=distribution-2&format=csv&round=2"), ("ranking", "?format=xlsx")],
)
def test_it_reads_a_download_from_the_replica_and_audits_it_on_the_primary(
    demo, client, replica, name, query
):
    client = signed_in(client, "city")
    args = [demo.slug] if name == "dashboard" else [demo.slug, 2]
    url = reverse(name, args=args) + query
    client.get(url)  # results made current
    before = AuditEvent.objects.filter(action="report.downloaded").count()
    with seen() as on:
        response = client.get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attach")
    assert on["replica"] and not any(is_write(sql) for sql in on["replica"])
    assert any('"results_communityresult"' in sql for sql in on["replica"])
    assert [sql for sql in on["default"] if is_write(sql)]  # the audit event, on the primary
    assert AuditEvent.objects.filter(action="report.downloaded").count() == before + 1


def test_it_reads_a_communitys_sheet_by_hand_written_sql_from_the_replica(demo, client, replica):
    """The item values are one raw query (scoring.rounds): it asks the router too."""
    client = signed_in(client, "city")
    code = demo.enrollments.order_by("community__code").first().community.code
    url = reverse("community_sheet", args=[demo.slug, 2, code])
    client.get(url)
    with seen() as on:
        response = client.get(url)
    assert response.status_code == 200
    load_workbook(BytesIO(response.content))  # a real workbook
    assert any('FROM "assessments_score"' in sql for sql in on["replica"])
    assert not any('"assessments_score"' in sql for sql in on["default"])


def test_a_long_export_reads_from_the_replica_and_writes_its_job_on_the_primary(
    demo, replica, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    city = User.objects.get(username="city")
    with seen() as on:
        job = jobs.start(
            actor=city,
            kind="summary-xlsx",
            campaign=demo,
            round_number=2,
            params={"headers": "zh"},
        )
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert any('"results_communityresult"' in sql for sql in on["replica"])
    assert not any(is_write(sql) for sql in on["replica"])
    assert any(is_write(sql) and '"results_exportjob"' in sql for sql in on["default"])
    assert ExportJob.objects.filter(pk=job.pk, path__startswith="exports/").exists()


def test_it_reads_from_the_primary_in_a_transaction_after_a_write_and_when_asked(world, settings):
    def where(read: Callable[[], Any]) -> str:
        with seen() as on:
            read()
        (alias,) = [a for a in ("default", "replica") if on[a]]
        return alias

    count = User.objects.count
    assert where(count) == "default"  # no scope
    with replica_reads():
        assert where(count) == "default"  # no replica configured
    settings.CIVICMARK_READ_REPLICA = "replica"
    with replica_reads():
        assert where(count) == "replica"
        with transaction.atomic():
            assert where(count) == "default"
        with primary():
            assert where(count) == "default"
        assert where(count) == "replica"
        User.objects.filter(username="nobody").update(full_name="无角色人员")
        assert where(count) == "default"  # read your own write
    with replica_reads():
        assert where(count) == "replica"  # a new scope starts fresh


def test_a_write_in_a_replica_scope_never_reaches_the_replica(scoring, replica):
    round_ = scoring["round"]
    enrollment = scoring["enrollments"]["C111"]
    with seen() as on, replica_reads():
        user = User.objects.create(username="r-writer", full_name="写入测试")
        user.full_name = "写入测试二"
        user.save()
        User.objects.get_or_create(username="r-writer-2", defaults={"full_name": "二"})
        User.objects.bulk_create([User(username="r-writer-3", full_name="三")])
        with transaction.atomic():
            list(User.objects.select_for_update().filter(username__startswith="r-writer"))
        materialize.mark(round_, [enrollment.pk])  # raw SQL through the default connection
        User.objects.filter(username__startswith="r-writer").delete()
    assert [sql for sql in on["default"] if is_write(sql)]
    assert not any(is_write(sql) for sql in on["replica"])
    assert not User.objects.filter(username__startswith="r-writer").exists()


def test_the_replica_refuses_a_write_sent_to_it_on_postgresql(world, replica):
    """The safety net under the router: a standby refuses writes, and so does the alias here."""
    if connections["replica"].vendor != "postgresql":
        pytest.skip("read-only sessions are PostgreSQL's (the router's own test runs everywhere)")
    with pytest.raises(DatabaseError, match="read-only"):
        User.objects.using("replica").filter(username="nobody").update(full_name="x")


STEPS = st.lists(st.sampled_from(["read", "read_in_transaction", "read_in_primary", "write"]))


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_a_read_goes_to_the_replica_only_until_the_scope_writes(world, replica, steps):
    """Any sequence of reads and writes in one scope: a read outside a transaction and outside
    `primary()` goes to the replica until the scope's first write, to the primary after it."""
    wrote = False
    with replica_reads():
        for step in steps:
            with seen() as on:
                if step == "write":
                    Session.objects.create(
                        session_key=uuid.uuid4().hex,
                        session_data="",
                        expire_date=timezone.now() + timedelta(hours=1),
                    )
                elif step == "read_in_transaction":
                    with transaction.atomic():
                        User.objects.exists()
                elif step == "read_in_primary":
                    with primary():
                        User.objects.exists()
                else:
                    User.objects.exists()
            if step == "write":
                wrote = True
                assert on["replica"] == []
                continue
            expected = "replica" if step == "read" and not wrote else "default"
            other = "default" if expected == "replica" else "replica"
            assert on[expected] and not [q for q in on[other] if "SAVEPOINT" not in q], step
    Session.objects.all().delete()


REPLICA_PROBE = """
import django, json
django.setup()
from django.conf import settings
r = settings.DATABASES.get("replica")
print(json.dumps({"alias": settings.CIVICMARK_READ_REPLICA, "replica": r and {
    "name": r["NAME"], "options": r.get("OPTIONS")}, "routers": settings.DATABASE_ROUTERS}))
"""


def _probe(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run(
        [sys.executable, "-c", REPLICA_PROBE],
        env=_production_env(CIVICMARK_HOME=str(tmp_path), **env),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.django_db(databases=[])
def test_database_replica_url_adds_a_read_only_replica_alias(tmp_path):
    import json

    found = _probe(
        tmp_path,
        DATABASE_URL="postgres://app@db1:5432/civicmark",
        DATABASE_REPLICA_URL="postgres://reader@db2:5432/civicmark",
    )
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout.strip().splitlines()[-1]) == {
        "alias": "replica",
        "replica": {
            "name": "civicmark",
            "options": {"options": "-c default_transaction_read_only=on -c jit=off"},
        },
        "routers": ["civicmark.core.replicas.ReplicaRouter"],
    }
    plain = _probe(tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout.strip().splitlines()[-1])["replica"] is None
    mixed = _probe(tmp_path, DATABASE_REPLICA_URL="postgres://reader@db2:5432/civicmark")
    assert mixed.returncode != 0 and "DATABASE_REPLICA_URL" in mixed.stderr


def test_the_apis_ranking_and_results_read_from_the_replica(demo, replica):
    """Found (stop 23's note): the API's reads of results all went to the primary, though they
    are the ranking and results the pages read from the replica."""
    from datetime import timedelta

    from django.test import Client

    from civicmark.accounts import tokens

    now = timezone.now()
    _token, secret = tokens.token_create(
        actor=User.objects.get(username="city"),
        name="t",
        expires_at=now + timedelta(days=3),
        scope="read",
        now=now,
        verified=True,
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    base = f"/api/campaigns/{demo.slug}/rounds/2"
    code = client.get(f"{base}/results").json()["items"][0]["community_code"]
    for path in ("/ranking", "/results", f"/results/{code}"):
        with seen() as on:
            assert client.get(f"{base}{path}").status_code == 200, path
        assert any('"results_communityresult"' in sql for sql in on["replica"]), path
        assert not any(is_write(sql) for sql in on["replica"]), path
        # The primary answers the token and the freshness checks; the results come from the
        # replica.
        assert not any('"results_communityresult"."total"' in sql for sql in on["default"]), path
