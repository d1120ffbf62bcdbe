"""Long exports run beside the request: the view records an ExportJob and returns at once; one
worker thread per process writes the file and its progress; the page polls and offers the file
when it is ready, so a person can leave and come back.

On one machine this is all it takes. With several application servers, CIVICMARK_JOBS=worker
leaves each job queued in the database and `civicmark jobs work` processes, on any machines,
claim them one at a time (`claim`: on PostgreSQL with SKIP LOCKED, so workers never wait for each
other; on SQLite the write lock serialises the claims). A job left running by a process that
died is shown as failed after STALE without news (progress keeps it fresh).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.core.errors import NotAllowed
from civicmark.results.models import ExportJob, ExportStatus

log = logging.getLogger("civicmark.jobs")
STALE = timedelta(minutes=15)
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="civicmark-export")

Writer = Callable[[ExportJob, Callable[[int], None]], tuple[bytes, str]]
WRITERS: dict[str, Writer] = {}


def writer(kind: str) -> Callable[[Writer], Writer]:
    def register(fn: Writer) -> Writer:
        WRITERS[kind] = fn
        return fn

    return register


def submit(job: ExportJob) -> None:
    """Run the job after the transaction that created it commits (inline when settings say so:
    the test suite, and a deployment that wants no threads)."""
    if getattr(settings, "CIVICMARK_JOBS_INLINE", False):
        transaction.on_commit(lambda: run(job.pk))
    elif settings.CIVICMARK_JOBS == "worker":
        return  # queued: a `civicmark jobs work` process claims it
    else:
        transaction.on_commit(lambda: _executor.submit(_run_in_thread, job.pk))


def _run_in_thread(pk: int) -> None:
    close_old_connections()
    try:
        run(pk)
    finally:
        # The thread's own connection goes now: left open, it would hold the database (and keep
        # PostgreSQL from dropping a test database).
        connections.close_all()


def _set(pk: int, **fields: Any) -> None:
    """Write a job's news. updated_at with it: QuerySet.update leaves auto_now alone, and a job
    without news for STALE is taken for dead."""
    ExportJob.objects.filter(pk=pk).update(updated_at=timezone.now(), **fields)


def claim() -> int | None:
    """The oldest queued job, now running and this worker's; None when there is none."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(skip_locked=True)
            .filter(status=ExportStatus.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if job is not None:
            _set(job, status=ExportStatus.RUNNING, progress=1)
    return job


def run(pk: int) -> None:
    job = ExportJob.objects.get(pk=pk)
    _set(pk, status=ExportStatus.RUNNING, progress=1)

    def progress(percent: int) -> None:
        _set(pk, progress=max(1, min(99, percent)))

    try:
        payload, filename = WRITERS[job.kind](job, progress)
        path = default_storage.save(f"exports/{job.public_id}-{filename}", ContentFile(payload))
    except Exception as exc:  # the person sees that it failed; the log keeps the details
        log.exception("export %s failed", job.public_id)
        _set(pk, status=ExportStatus.FAILED, message=str(exc)[:500])
        return
    _set(pk, status=ExportStatus.DONE, progress=100, path=path, filename=filename)


def effective_status(job: ExportJob) -> str:
    if job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) and (
        timezone.now() - job.updated_at > STALE
    ):
        return ExportStatus.FAILED
    return job.status


def may_start(user: Any) -> bool:
    """A long export is work a person asks of the server; a read-only viewer (a leading-group
    member) asks none, he takes the ranking as a plain download link."""
    return not authz.is_read_only(user)


def start(
    *, actor: Any, kind: str, campaign: Any, round_number: int | None, params: dict[str, Any]
) -> ExportJob:
    from civicmark.core import audit

    if kind not in WRITERS:
        raise ValueError(kind)
    if actor is not None and not may_start(actor):
        raise NotAllowed(
            _("A read-only viewer starts no export: take the ranking's download link.")
        )
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind,
            campaign=campaign,
            round_number=round_number,
            params=params,
            requested_by=actor,
        )
        audit.record(
            actor=actor,
            action="report.requested",
            object_type="report",
            object_ref=str(job.public_id),
            scope_path=campaign.division.path,
            summary=f"{kind} {campaign.slug}/{round_number or ''}",
        )
        submit(job)
    return job
