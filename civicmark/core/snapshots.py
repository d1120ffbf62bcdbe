"""Figures taken off-request, the generic part (ADR 29, ADR 30).

A page whose figures grow with N (a campaign of 110,000 communities) reads them from a snapshot
row instead: taken by a task after writes, never recomputed per request. What every such
snapshot shares lives here, once:

- the row's bookkeeping (`Snapshot`: `taken_at`, `queued_at`, `data`);
- *behind*: an audited write under the snapshot's division since it was taken (every write that
  matters writes its audit event, ADR 2; downloads only read), or a new day (overdue counts move
  with the date) — one query on the audit log's `at` index, asked of the primary;
- the debounce: one queued refresh at a time, a queued one older than LOST_AFTER taken as lost;
- `serve`: what a page reads (the snapshot, or None to count live) and whether it is behind; where
  tasks run at once (the immediate backend: tests, one machine without a worker) a missing or
  behind snapshot is taken before the page reads it.

Each app keeps its own model (a subclass of `Snapshot`), its `take` and its task; core knows no
app.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from civicmark.core.models import AuditEvent
from civicmark.core.replicas import primary

# A queued refresh not done after this long is taken as lost (a worker stopped): ask again.
LOST_AFTER = timedelta(minutes=5)
# Audit actions that change nothing a snapshot counts.
READS_ONLY = ("report.downloaded",)


class Snapshot(models.Model):
    """Figures as of `taken_at`, refreshed off-request; subclasses add what they belong to."""

    taken_at = models.DateTimeField(null=True, blank=True)  # null: asked for, never taken yet
    # When a refresh was last asked for (debounce: one queued refresh at a time).
    queued_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        abstract = True


S = TypeVar("S", bound=Snapshot)


def behind(snapshot: Snapshot, scope_path: str, now: datetime) -> bool:
    """Something was written under `scope_path` since the snapshot was taken, or the day has
    changed: one indexed query (audit events since then)."""
    if snapshot.taken_at is None:
        return True
    if timezone.localdate(snapshot.taken_at) < timezone.localdate(now):
        return True
    # Asked of the primary where the page reads from a replica (ADR 27): a replica a moment
    # behind would not yet hold the write that makes the snapshot behind.
    with primary():
        return (
            AuditEvent.objects.filter(at__gt=snapshot.taken_at, scope_path__startswith=scope_path)
            .exclude(action__in=READS_ONLY)
            .exists()
        )


def request_refresh(
    model: type[Snapshot], owner: dict[str, Any], now: datetime, enqueue: Callable[[], Any]
) -> bool:
    """Queue one refresh of the snapshot of `owner` (e.g. {"campaign": c}) unless one is queued
    already and not lost; `enqueue` runs after the transaction commits. Returns whether queued."""
    waiting = Q(taken_at__isnull=True) | Q(queued_at__gt=F("taken_at"))
    rows = model._default_manager.filter(**owner)
    if rows.filter(waiting, queued_at__gt=now - LOST_AFTER).exists():
        return False
    _row, created = model._default_manager.get_or_create(**owner, defaults={"queued_at": now})
    if not created:
        rows.update(queued_at=now)
    transaction.on_commit(enqueue)
    return True


def runs_at_once(task: Any) -> bool:
    """Whether the task's backend runs it in the process that enqueues it (immediate)."""
    from django_tasks.backends.immediate import ImmediateBackend

    return isinstance(task.get_backend(), ImmediateBackend)


def serve(
    snapshot: S | None,
    *,
    is_behind: Callable[[S], bool],
    take: Callable[[], S],
    ask: Callable[[], Any],
    at_once: bool,
) -> tuple[S | None, bool]:
    """The snapshot a page may read (None: count live) and whether it is behind. A missing or
    behind snapshot is refreshed off-request through `ask` (debounced), or taken now when tasks
    run at once, so such a page is never behind."""
    if snapshot is not None and snapshot.taken_at is None:
        snapshot = None  # asked for, never taken: nothing to read yet
    if snapshot is not None and not is_behind(snapshot):
        return snapshot, False
    if at_once:
        return take(), False
    ask()
    return snapshot, snapshot is not None
