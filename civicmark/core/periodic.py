"""Periodic work, by one mechanism (ADR 23).

An app declares a job with `@periodic("app.name")`: a function of the current time that does what
is due *now* and nothing twice (each job is idempotent: it records what it did — a reminder sent,
an escalation step taken, a digest mailed — and skips what is recorded), so it may run at least
once, late, or twice without harm. `civicmark tick` enqueues every declared job as a task on
Django's task framework; cron or a systemd timer runs it every few minutes (`civicmark worker
--tick` does the same from inside the worker). Tests call `run_all(now)` or one job with a fake
clock.

Jobs live in each app's `periodic.py`, found at start-up (`discover`), so core imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

Job = Callable[[datetime], object]
JOBS: dict[str, Job] = {}


def periodic(name: str) -> Callable[[Job], Job]:
    def register(fn: Job) -> Job:
        if name in JOBS and JOBS[name] is not fn:
            raise ValueError(f"periodic job {name!r} is declared twice")
        JOBS[name] = fn
        return fn

    return register


def discover() -> dict[str, Job]:
    autodiscover_modules("periodic")
    return JOBS


def run_one(name: str, now: datetime | None = None) -> object:
    discover()
    return JOBS[name](now or timezone.now())


def run_all(now: datetime | None = None) -> dict[str, object]:
    """Every job, in name order, at one instant (the fake clock's in tests)."""
    at = now or timezone.now()
    return {name: job(at) for name, job in sorted(discover().items())}
