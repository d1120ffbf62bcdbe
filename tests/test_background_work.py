"""Background work on Django's task framework (ADR 23): long exports and periodic jobs as tasks,
on the database backend (run by `civicmark worker` in this process), on Redis (RQ, a SimpleWorker
in burst mode) and at once (the test settings' immediate backend); the tick; at least once and
idempotent; PostgreSQL's SKIP LOCKED claims."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks.signals import task_finished
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from civicmark.core import periodic, tasks
from civicmark.core.models import AuditEvent
from civicmark.results import jobs
from civicmark.results.models import ExportJob, ExportStatus

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.get_fixed_timezone(480))
REDIS_URL = os.environ.get("CIVICMARK_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def db_tasks(settings):  # noqa: ANN001, ANN201
    """The database backend, the embedded default of production."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASKS_QUEUES}
    }


@pytest.fixture
def rq_tasks(settings):  # noqa: ANN001, ANN201
    """The RQ backend on the Redis at REDIS_URL, on a queue of this test's own (so that suites
    running at once on one machine never run each other's tasks). No Redis is a failure: CI has
    one, and a skipped test would let the RQ path rot unseen."""
    import django_rq
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable ({exc}). The RQ task backend is tested against "
            "a real Redis (CI has one): start redis-server, or point CIVICMARK_TEST_REDIS_URL at "
            "one (a database number of its own)."
        )
    name = f"civicmark-test-{uuid.uuid4().hex[:12]}"
    settings.TASKS_QUEUE = name
    # ("default" names the connection django-rq reads results with; no task waits there.)
    settings.RQ_QUEUES = {name: {"URL": REDIS_URL}, "default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [name]}}
    queue = django_rq.get_queue(name)
    yield queue
    # Leave nothing behind: the queue, its jobs and results, and its registries.
    redis_ = queue.connection
    registries = [key for key in redis_.scan_iter(f"rq:*:{name}") if key != queue.key.encode()]
    for key in registries:
        for job_id in redis_.zrange(key, 0, -1):
            redis_.delete(b"rq:job:" + job_id, b"rq:results:" + job_id)
    queue.delete(delete_jobs=True)
    if registries:
        redis_.delete(*registries)


@pytest.fixture
def test_jobs(monkeypatch):  # noqa: ANN001, ANN201
    """Three periodic jobs beside the real ones: the middle one fails. What ran, at what time."""
    periodic.discover()
    seen: list[tuple[str, datetime]] = []

    def job(name: str, fails: bool = False):  # noqa: ANN202
        def run(now: datetime) -> str:
            seen.append((name, now))
            if fails:
                raise RuntimeError(f"{name} broke")
            return f"{name} ok"

        return run

    monkeypatch.setitem(periodic.JOBS, "zz_test.a_before", job("a"))
    monkeypatch.setitem(periodic.JOBS, "zz_test.b_fails", job("b", fails=True))
    monkeypatch.setitem(periodic.JOBS, "zz_test.c_after", job("c"))
    return seen


@pytest.fixture
def finished():  # noqa: ANN201
    """Every task result the framework reports finished, by the periodic job's name or the
    export's id."""
    done: dict[str, list[str]] = {}

    def record(sender, task_result, **kwargs):  # noqa: ANN001, ANN003, ANN202, ARG001
        key = task_result.kwargs.get("name") or (task_result.args or ["?"])[0]
        done.setdefault(key, []).append(task_result.status)

    task_finished.connect(record, dispatch_uid="test_background_work")
    yield done
    task_finished.disconnect(dispatch_uid="test_background_work")


def _export(scoring, world) -> ExportJob:  # noqa: ANN001
    return jobs.start(
        actor=world.users["city_admin"],
        kind="summary-xlsx",
        campaign=scoring["campaign"],
        round_number=2,
        params={"headers": "en"},
    )


def _worker(*args: str) -> str:
    out = StringIO()
    call_command("worker", *args, stdout=out)
    return out.getvalue()


# --- exports on the database backend ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_export_runs_once_however_often_its_task_is_enqueued(scoring, world, db_tasks):
    """At least once: the same export's task enqueued twice (the stalled-export job and a late
    original) writes its file once; the second run finds it done and does nothing."""
    from django_tasks_db.models import DBTaskResult

    made = [_export(scoring, world) for _ in range(2)]
    tasks.queued(jobs.run_export).enqueue(str(made[0].public_id))
    assert DBTaskResult.objects.filter(status="READY").count() == 3
    assert set(ExportJob.objects.values_list("status", flat=True)) == {"queued"}
    assert _worker("--batch").strip().endswith("3 tasks run")
    for job in ExportJob.objects.all():
        assert job.status == "done" and job.attempts == 1 and default_storage.exists(job.path)
    outcomes = sorted(DBTaskResult.objects.values_list("return_value", flat=True))
    assert outcomes == ["done", "done", "nothing to do"]
    _, files = default_storage.listdir("exports")
    assert sum(str(made[0].public_id) in f for f in files) == 1
    assert _worker("--batch").strip().endswith("0 tasks run")


@pytest.mark.django_db(transaction=True)
def test_an_export_asked_for_in_a_transaction_that_rolls_back_leaves_no_task(
    scoring, world, db_tasks
):
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(RuntimeError), transaction.atomic():
        _export(scoring, world)
        raise RuntimeError("the request failed after asking")
    assert not ExportJob.objects.exists() and not DBTaskResult.objects.exists()
    assert not AuditEvent.objects.filter(action="report.requested").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_export_fails_for_its_owner_and_the_framework_keeps_why(
    scoring, world, db_tasks, monkeypatch
):
    from django_tasks_db.models import DBTaskResult

    def broken(job, progress):  # noqa: ANN001, ANN202, ARG001
        raise OSError("the disk is full")

    monkeypatch.setitem(jobs.WRITERS, "summary-xlsx", broken)
    job = _export(scoring, world)
    assert _worker("--batch").strip().endswith("1 tasks run")
    job.refresh_from_db()
    assert job.status == "failed" and job.message == "the disk is full" and not job.path
    result = DBTaskResult.objects.get()
    assert result.status == "FAILED" and result.exception_class_path == "builtins.OSError"
    assert "the disk is full" in result.traceback
    # A failed export is the person's to ask again: the stalled-export job leaves it alone.
    assert jobs.retry_stalled(timezone.now() + timedelta(hours=1)) == {"retried": 0, "given_up": 0}


# --- at least once: exports lost on the way ----------------------------------------------------


def test_an_export_lost_on_the_way_runs_again_once_after_retry_after(
    scoring, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as lost:
        job = _export(scoring, world)  # the process died before its enqueue
    assert len(lost) == 1 and job.status == "queued"
    t0 = ExportJob.objects.get().updated_at
    assert jobs.retry_stalled(t0 + jobs.RETRY_AFTER) == {"retried": 0, "given_up": 0}
    later = t0 + jobs.RETRY_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        assert periodic.run_one("results.stalled_exports", later) == {"retried": 1, "given_up": 0}
        # A second tick at the same instant (two machines' cron) takes nothing more.
        assert jobs.retry_stalled(later) == {"retried": 0, "given_up": 0}
    assert len(enqueued) == 1
    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 1 and default_storage.exists(job.path)


def test_an_export_whose_worker_died_runs_again_until_its_third_run_then_fails(
    scoring, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = _export(scoring, world)
    t0 = timezone.now()
    for attempts, expected in (
        (1, {"retried": 1, "given_up": 0}),
        (3, {"retried": 0, "given_up": 1}),
    ):
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, attempts=attempts, updated_at=t0
        )
        with django_capture_on_commit_callbacks(execute=False) as enqueued:
            assert jobs.retry_stalled(t0 + timedelta(minutes=11)) == expected
        assert len(enqueued) == expected["retried"]
    job.refresh_from_db()
    assert job.status == "failed" and "after 3 runs" in job.message


def test_the_page_shows_an_export_failed_only_when_no_tick_has_run_for_give_up(scoring, world):
    job = _export(scoring, world)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED, updated_at=NOW)
    job.refresh_from_db()
    assert jobs.effective_status(job, NOW + jobs.GIVE_UP) == "queued"
    assert jobs.effective_status(job, NOW + jobs.GIVE_UP + timedelta(seconds=1)) == "failed"


@hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    status=st.sampled_from(ExportStatus.values),
    attempts=st.integers(min_value=0, max_value=5),
    minutes=st.integers(min_value=0, max_value=90),
)
def test_the_stalled_export_rule_over_every_status_run_count_and_age(
    scoring, world, django_capture_on_commit_callbacks, status, attempts, minutes
):
    """Retried exactly when unfinished, silent for more than RETRY_AFTER and run fewer than
    MAX_ATTEMPTS times; given up when so silent after MAX_ATTEMPTS runs; else untouched."""
    ExportJob.objects.all().delete()
    job = ExportJob.objects.create(
        kind="summary-xlsx",
        campaign=scoring["campaign"],
        round_number=2,
        requested_by=world.users["city_admin"],
    )
    ExportJob.objects.filter(pk=job.pk).update(status=status, attempts=attempts, updated_at=NOW)
    silent = timedelta(minutes=minutes) > jobs.RETRY_AFTER
    unfinished = status in ("queued", "running")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        outcome = jobs.retry_stalled(NOW + timedelta(minutes=minutes))
    retry = unfinished and silent and attempts < jobs.MAX_ATTEMPTS
    give_up = unfinished and silent and attempts >= jobs.MAX_ATTEMPTS
    assert outcome == {"retried": int(retry), "given_up": int(give_up)}
    assert len(enqueued) == int(retry)
    job.refresh_from_db()
    assert job.status == ("queued" if retry else "failed" if give_up else status)


# --- the tick ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tick_runs_every_periodic_job_and_a_failing_one_stops_no_other(test_jobs, finished):
    """On the immediate backend each job is its own task: the one that fails fails alone; every
    job sees the tick's instant (a fake clock)."""
    done = tasks.tick(NOW)
    assert done == {name: "enqueued" for name in sorted(periodic.JOBS)}
    assert {"core.finished_tasks_pruned", "results.stalled_exports"} <= set(done)
    assert test_jobs == [("a", NOW), ("b", NOW), ("c", NOW)]
    assert finished.pop("zz_test.b_fails") == ["FAILED"]
    assert finished == {name: ["SUCCESSFUL"] for name in done if name != "zz_test.b_fails"}


@pytest.mark.django_db(transaction=True)
def test_the_tick_through_the_database_worker(test_jobs, db_tasks):
    """Each job waits as its own task; a tick while they wait adds none (a worker that was away
    finds one per job, not one per tick missed); the worker runs them all, the failing one
    failing alone with its traceback kept."""
    from django_tasks_db.models import DBTaskResult

    names = sorted(periodic.discover())
    assert set(tasks.tick(NOW).values()) == {"enqueued"}
    assert tasks.tick(NOW) == {name: "waiting" for name in names}
    assert DBTaskResult.objects.filter(status="READY").count() == len(names)
    assert _worker("--batch").strip().endswith(f"{len(names)} tasks run")
    assert sorted(test_jobs) == [("a", NOW), ("b", NOW), ("c", NOW)]
    statuses = {r.args_kwargs["kwargs"]["name"]: r for r in DBTaskResult.objects.all()}
    assert statuses["zz_test.b_fails"].status == "FAILED"
    assert "RuntimeError: b broke" in statuses["zz_test.b_fails"].traceback
    assert {n: r.status for n, r in statuses.items() if n != "zz_test.b_fails"} == {
        n: "SUCCESSFUL" for n in names if n != "zz_test.b_fails"
    }
    assert statuses["zz_test.a_before"].return_value == "a ok"
    assert set(tasks.tick(NOW).values()) == {"enqueued"}  # nothing waits now


@pytest.mark.django_db(transaction=True)
def test_worker_batch_with_tick_ticks_once_then_runs_what_waits(test_jobs, db_tasks):
    out = _worker("--batch", "--tick", "300")
    names = sorted(periodic.discover())
    assert out.startswith("tick: ") and "zz_test.c_after enqueued" in out
    assert out.strip().endswith(f"{len(names)} tasks run")
    assert sorted(name for name, _ in test_jobs) == ["a", "b", "c"]


@pytest.mark.django_db
def test_civicmark_tick_names_each_job_and_lists_them(test_jobs):
    out = StringIO()
    call_command("tick", stdout=out)
    lines = out.getvalue().splitlines()
    names = sorted(periodic.JOBS)
    assert lines == [f"{name}: enqueued" for name in names] + [
        f"{len(names)} periodic jobs enqueued"
    ]
    out = StringIO()
    call_command("tick", "--list", stdout=out)
    assert out.getvalue().splitlines() == names


@pytest.mark.django_db
def test_the_worker_ticks_on_after_a_tick_that_failed(monkeypatch, caplog):
    calls: list[int] = []

    def tick() -> dict[str, str]:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("Redis went away")
        return {}

    monkeypatch.setattr(tasks, "tick", tick)
    waits: list[float] = []
    tasks.tick_every(300, lambda seconds: waits.append(seconds) or len(waits) == 2)
    assert calls == [1, 1] and waits == [300, 300]
    assert "tick failed" in caplog.text


WARMED: list[str] = []


def warm() -> None:
    WARMED.append("warm")


@pytest.mark.django_db(transaction=True)
def test_a_long_lived_worker_warms_up_first_and_a_batch_does_not(db_tasks, test_jobs, settings):
    """The PDF font in production (settings.TASKS_WORKER_WARMUP); here a probe. --max-tasks ends
    the long-lived worker after its task."""
    settings.TASKS_WORKER_WARMUP = [f"{__name__}.warm"]
    WARMED.clear()
    run = tasks.queued(tasks.run_periodic)
    run.enqueue(name="zz_test.a_before", at=NOW.isoformat())
    assert _worker("--batch").strip().endswith("1 tasks run") and WARMED == []
    run.enqueue(name="zz_test.c_after", at=NOW.isoformat())
    assert _worker("--max-tasks", "1", "--interval", "0.1").strip().endswith("1 tasks run")
    assert WARMED == ["warm"] and [name for name, _ in test_jobs] == ["a", "c"]


@pytest.mark.django_db
def test_the_worker_on_the_immediate_backend_has_nothing_to_run():
    assert "tasks run where they are enqueued" in _worker()


@pytest.mark.django_db(transaction=True)
def test_finished_tasks_are_pruned_after_two_weeks(db_tasks, test_jobs):
    from django_tasks_db.models import DBTaskResult

    tasks.tick(NOW)
    _worker("--batch")
    count = DBTaskResult.objects.count()
    DBTaskResult.objects.filter(args_kwargs__kwargs__name="zz_test.a_before").update(
        finished_at=NOW - timedelta(days=15)
    )
    assert tasks.prune_finished_tasks(NOW) == 1
    assert tasks.prune_finished_tasks(NOW) == 0
    assert DBTaskResult.objects.count() == count - 1


# --- Redis (RQ) ----------------------------------------------------------------------------------


def test_an_export_runs_on_redis_with_the_rq_backend(
    scoring, world, rq_tasks, django_capture_on_commit_callbacks
):
    from civicmark.core.tasks import backend_kind

    assert backend_kind() == "rq"
    with django_capture_on_commit_callbacks(execute=True):
        job = _export(scoring, world)
    assert rq_tasks.count == 1
    job.refresh_from_db()
    assert job.status == "queued"
    (waiting,) = rq_tasks.get_jobs()
    assert _worker("--batch").strip().endswith("1 tasks run")
    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 1 and default_storage.exists(job.path)
    result = jobs.run_export.get_backend().get_result(waiting.id)
    assert result.status == "SUCCESSFUL" and result.return_value == "done"
    assert rq_tasks.count == 0


def test_the_tick_runs_on_redis_and_a_failing_job_stops_no_other(test_jobs, rq_tasks, db):  # noqa: ANN001, ARG001
    names = sorted(periodic.discover())
    assert set(tasks.tick(NOW).values()) == {"enqueued"}  # no "waiting" check off the database
    assert rq_tasks.count == len(names)
    waiting = rq_tasks.get_jobs()
    assert _worker("--batch").strip().endswith(f"{len(names)} tasks run")
    assert sorted(test_jobs) == [("a", NOW), ("b", NOW), ("c", NOW)]
    backend = tasks.run_periodic.get_backend()
    statuses = {j.kwargs["name"]: backend.get_result(j.id).status for j in waiting}
    assert statuses.pop("zz_test.b_fails") == "FAILED"
    assert set(statuses.values()) == {"SUCCESSFUL"}


# --- PostgreSQL: claims skip what another worker holds -----------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_worker_skips_a_task_another_worker_holds(db_tasks, test_jobs):
    """Two workers never run one task: the database backend claims with SELECT ... FOR UPDATE
    SKIP LOCKED. A task another worker's transaction holds is passed over, and run once free."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's row locks; SQLite serialises claims with its write lock")
    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    held = tasks.queued(tasks.run_periodic).enqueue(name="zz_test.a_before", at=NOW.isoformat())
    tasks.queued(tasks.run_periodic).enqueue(name="zz_test.c_after", at=NOW.isoformat())
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                DBTaskResult.objects.select_for_update().get(id=held.id)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(30)
        assert _worker("--batch").strip().endswith("1 tasks run")
        assert [name for name, _ in test_jobs] == ["c"]
        assert DBTaskResult.objects.get(id=held.id).status == "READY"
    finally:
        release.set()
        thread.join(30)
    assert _worker("--batch").strip().endswith("1 tasks run")
    assert [name for name, _ in test_jobs] == ["c", "a"]


# --- the demo's worker beside gunicorn -----------------------------------------------------------


def test_gunicorn_starts_the_demo_s_worker_beside_it_and_stops_it_with_itself(monkeypatch):
    """`civicmark demo` sets CIVICMARK_EMBEDDED_WORKER=1: the master starts `civicmark worker
    --tick 60` when ready and ends it as it exits; a plain gunicorn (production) starts none."""
    import subprocess
    import sys

    from civicmark.config import gunicorn

    started: list[list[str]] = []

    class Process:
        pid = 4242
        terminated = killed = False

        def __init__(self, command: list[str]) -> None:
            started.append(command)

        def terminate(self) -> None:
            self.terminated = True

        def wait(self, timeout: float) -> int:
            raise subprocess.TimeoutExpired("worker", timeout)

        def kill(self) -> None:
            self.killed = True

    class Server:
        class log:  # noqa: N801
            @staticmethod
            def info(*args: object) -> None:
                pass

    monkeypatch.setattr(gunicorn.subprocess, "Popen", Process)
    monkeypatch.setattr(gunicorn, "_embedded", [])
    monkeypatch.delenv("CIVICMARK_EMBEDDED_WORKER", raising=False)
    gunicorn.when_ready(Server())
    assert started == []
    monkeypatch.setenv("CIVICMARK_EMBEDDED_WORKER", "1")
    gunicorn.when_ready(Server())
    assert started == [[sys.executable, "-m", "civicmark", "worker", "--tick", "60"]]
    gunicorn.on_exit(Server())
    (process,) = gunicorn._embedded
    assert process.terminated and process.killed  # it did not stop within the wait
