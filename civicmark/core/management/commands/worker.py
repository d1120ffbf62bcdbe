"""`civicmark worker`: run the background tasks (ADR 23), whatever TASKS_BACKEND holds them.

civicmark worker               run tasks until stopped (SIGTERM or Ctrl-C ends it after the task
                               it is running; a second one ends it at once)
civicmark worker --tick 300    and enqueue the periodic jobs every 300 seconds (one process for a
                               small install: no cron line needed)
civicmark worker --batch       run what is waiting now, then stop (cron, a test)

database: django-tasks-db's worker (claims with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL,
an exclusive transaction on SQLite); rq: an RQ worker on REDIS_URL (each task in a forked work
horse); immediate: tasks ran where they were enqueued, so the worker only ticks (with --tick).
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from django_tasks.signals import task_finished

from civicmark.core.commands import CivicCommand


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


class Command(CivicCommand):
    help = "Run the background tasks (long exports, periodic jobs) from the task backend."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tick",
            type=_seconds,
            metavar="SECONDS",
            help="also enqueue every periodic job every SECONDS (with --batch: once, first)",
        )
        parser.add_argument("--batch", action="store_true", help="run the waiting tasks, then stop")
        parser.add_argument(
            "--interval",
            type=_seconds,
            default=1.0,
            help="database backend: seconds between looks at an empty queue (default 1)",
        )
        parser.add_argument(
            "--max-tasks", type=int, help="stop after this many tasks (a worker that is recycled)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.core import tasks

        kind = tasks.backend_kind()
        batch: bool = options["batch"]
        if not batch and kind != "immediate":
            # Upper layers' preparations, named by a setting (core imports no app).
            for path in settings.TASKS_WORKER_WARMUP:
                import_string(path)()
        every: float | None = options["tick"]
        stop = threading.Event()
        ticker: threading.Thread | None = None
        if every is not None and batch:
            self.stdout.write(self._ticked(tasks.tick()))
        elif every is not None and kind != "immediate":
            ticker = threading.Thread(
                target=tasks.tick_every, args=(every, stop.wait), name="civicmark-tick", daemon=True
            )
            ticker.start()
        ran: list[str] = []

        def count(sender: Any, task_result: Any, **kwargs: Any) -> None:
            ran.append(task_result.id)

        task_finished.connect(count, weak=False, dispatch_uid=f"civicmark-worker-{id(ran)}")
        try:
            if kind == "database":
                self._database(options)
            elif kind == "rq":
                self._rq(options)
            elif every is not None and not batch:
                self.stdout.write(
                    "TASKS_BACKEND=immediate: tasks run where they are enqueued; ticking."
                )
                tasks.tick_every(every, self._interruptible(stop))
            else:
                self.stdout.write("TASKS_BACKEND=immediate: tasks run where they are enqueued.")
        finally:
            task_finished.disconnect(dispatch_uid=f"civicmark-worker-{id(ran)}")
            stop.set()
            if ticker is not None:
                ticker.join(timeout=30)
        if kind != "immediate":
            # (an RQ worker that is not a batch runs each task in a forked horse, uncounted here)
            self.stdout.write(f"{len(ran)} tasks run" if batch or kind == "database" else "stopped")

    @staticmethod
    def _ticked(done: dict[str, str]) -> str:
        return "tick: " + (", ".join(f"{name} {how}" for name, how in done.items()) or "no jobs")

    @staticmethod
    def _interruptible(stop: threading.Event) -> Any:
        def wait(seconds: float) -> bool:
            try:
                return stop.wait(seconds)
            except KeyboardInterrupt:
                return True

        return wait

    @staticmethod
    def _queues() -> list[str]:
        """Every queue the default backend takes (settings.TASKS_QUEUES), CivicMark's first."""
        from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

        queues = task_backends[DEFAULT_TASK_BACKEND_ALIAS].queues
        return sorted(queues, key=lambda name: (name != settings.TASKS_QUEUE, name))

    def _worker_id(self) -> str:
        return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"

    def _database(self, options: dict[str, Any]) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=self._queues(),
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=options["max_tasks"],
            worker_id=self._worker_id(),
            excluded_queue_names=[],
        )
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            worker.configure_signals()
        try:
            worker.run()
        except SystemExit as stopped:  # the worker's signal handler ends it so
            if stopped.code not in (0, None):
                raise
        finally:
            if in_main:
                worker.reset_signals()

    def _rq(self, options: dict[str, Any]) -> None:
        import django_rq
        from django_tasks_rq.backend import Job
        from redis.exceptions import ConnectionError as RedisConnectionError

        # A long-lived worker runs each task in a forked work horse (a task that leaks or crashes
        # takes only its horse down); a batch runs them in this process (cron, a test).
        worker_class = "rq.SimpleWorker" if options["batch"] else "rq.Worker"
        if not options["batch"]:
            from django.db import connections

            connections.close_all()  # each horse opens its own, never the parent's

        try:
            worker = django_rq.get_worker(
                *self._queues(), job_class=Job, worker_class=worker_class, name=self._worker_id()
            )
            worker.work(
                burst=options["batch"],
                max_jobs=options["max_tasks"],
                with_scheduler=not options["batch"],
            )
        except RedisConnectionError as exc:
            raise CommandError(f"Redis (REDIS_URL) is unreachable: {exc}") from exc
