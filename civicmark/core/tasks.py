"""Background work on Django's task framework (django-tasks, ADR 23).

Every piece of background work is a `@task` function enqueued through `enqueue_on_commit`: after
the transaction that asked for it commits (so a worker never looks for a row not yet written, and
a rolled-back request leaves no task behind), on the queue settings.TASKS_QUEUE names, to the
backend settings.TASKS_BACKEND picks (database, rq or immediate). The framework queues, claims
and runs; `civicmark worker` is the process that runs them.

At least once: a task may be lost between a commit and its enqueue (the process dies) or in the
middle of its run (the worker dies). Whatever needs running again is found from the application's
own records by a periodic job (for exports: results.periodic re-enqueues an export that has had no
news for a while), so every task is written to be idempotent: run twice, it does its work once.

Periodic work: `tick(now)` enqueues every core.periodic job as one task each (`run_periodic`), so
a failing job fails its own task and the others run; `civicmark tick` (cron, a systemd timer) or
`civicmark worker --tick SECONDS` call it. Two ticks at once enqueue a job twice, which the jobs'
idempotency makes harmless; no lock is taken, so no lock can wedge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from civicmark.core import periodic

log = logging.getLogger("civicmark.tasks")
P = ParamSpec("P")
T = TypeVar("T")

# What the database backend keeps of tasks that have finished, for an operator to read.
KEEP_FINISHED = timedelta(days=14)


def queued(fn: Task[P, T]) -> Task[P, T]:
    """The task on CivicMark's queue (settings.TASKS_QUEUE, read when enqueued)."""
    return fn.using(queue_name=settings.TASKS_QUEUE)


def enqueue_on_commit(fn: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
    """Enqueue `fn(*args, **kwargs)` once the current transaction commits (at once outside one).

    robust: a backend that cannot take the task (Redis down) is logged, not raised into a request
    whose data is already committed; the periodic job that finds unfinished work enqueues it
    again."""
    transaction.on_commit(partial(_enqueue, fn, args, kwargs), robust=True)


def _enqueue(fn: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    queued(fn).enqueue(*args, **kwargs)


def backend_kind() -> str:
    """database, rq or immediate: the kind of the default task backend, for the worker."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks_db import DatabaseBackend

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, DatabaseBackend):
        return "database"
    if isinstance(backend, ImmediateBackend):
        return "immediate"
    from django_tasks_rq import RQBackend

    if isinstance(backend, RQBackend):
        return "rq"
    raise ValueError(f"no worker for the task backend {type(backend).__name__}")


@task()
def run_periodic(name: str, at: str | None = None) -> str:
    """One periodic job, at the tick's instant when the tick was given one (a fake clock), else
    at the time it runs (a task that waited runs what is due when it runs)."""
    jobs = periodic.discover()
    job = jobs.get(name)
    if job is None:  # declared when the tick ran, gone from the code the worker runs now
        log.warning("periodic job %s is not declared: skipped", name)
        return "unknown"
    outcome = job(datetime.fromisoformat(at) if at else timezone.now())
    log.info("periodic job %s: %s", name, outcome)
    return str(outcome)[:500]


def _waiting(name: str) -> bool:
    """A task for this job is already waiting in the database backend (a worker that was away
    would otherwise find one per tick it missed). Read without a lock: two ticks at once may both
    enqueue, which the job's idempotency makes harmless."""
    if backend_kind() != "database":
        return False
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.ready()
        .filter(task_path=run_periodic.module_path, args_kwargs__kwargs__name=name)
        .exists()
    )


def tick(now: datetime | None = None) -> dict[str, str]:
    """Enqueue every declared periodic job as its own task; what became of each name
    ('enqueued', or 'waiting' when one is still waiting from an earlier tick)."""
    at = now.isoformat() if now is not None else None
    done: dict[str, str] = {}
    for name in sorted(periodic.discover()):
        if _waiting(name):
            done[name] = "waiting"
            continue
        queued(run_periodic).enqueue(name=name, at=at)
        done[name] = "enqueued"
    return done


def tick_every(seconds: float, stop: Callable[[float], bool]) -> None:
    """Tick, then wait `seconds`, until `stop(seconds)` (an Event's wait) says to stop. An error
    in one tick is logged and the next tick comes as usual."""
    from django.db import close_old_connections, connections

    while True:
        close_old_connections()
        try:
            done = tick()
            log.info("tick: %s", ", ".join(f"{k} {v}" for k, v in done.items()) or "no jobs")
        except Exception:
            log.exception("tick failed")
        finally:
            connections.close_all()  # this thread's own connection
        if stop(seconds):
            return


@periodic.periodic("core.finished_tasks_pruned")
def prune_finished_tasks(now: datetime) -> int:
    """Drop what the database backend keeps of tasks finished more than KEEP_FINISHED ago (every
    tick leaves a row per job). Idempotent: what is gone is gone."""
    if backend_kind() != "database":
        return 0
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    deleted, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=now - KEEP_FINISHED,
    ).delete()
    return deleted
