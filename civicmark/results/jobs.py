"""Long exports on Django's task framework (ADR 6, ADR 23): the view records an ExportJob (what
the person sees: status, progress, the file) and returns at once; `run_export`, a task enqueued
when that record commits, writes the file and its progress; the page polls and offers the file
when it is ready, so a person can leave and come back.

The framework queues, claims and runs the task (`civicmark worker`, on any machines). The export
is idempotent and runs at least once: `run_export` does nothing for a job already done or failed,
and the periodic job `results.stalled_exports` (results/periodic.py) enqueues again a job that
has had no news for RETRY_AFTER (its enqueue was lost, or its worker died), up to MAX_ATTEMPTS
runs; a job that has had no news for GIVE_UP (no tick runs at all) is shown as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from civicmark.accounts import authz
from civicmark.core.errors import NotAllowed
from civicmark.core.tasks import enqueue_on_commit
from civicmark.results.models import ExportJob, ExportStatus

log = logging.getLogger("civicmark.jobs")
RETRY_AFTER = timedelta(minutes=10)
GIVE_UP = timedelta(minutes=30)
MAX_ATTEMPTS = 3
UNFINISHED = (ExportStatus.QUEUED, ExportStatus.RUNNING)

Writer = Callable[[ExportJob, Callable[[int], None]], tuple[bytes, str]]
WRITERS: dict[str, Writer] = {}


def writer(kind: str) -> Callable[[Writer], Writer]:
    def register(fn: Writer) -> Writer:
        WRITERS[kind] = fn
        return fn

    return register


def _set(pk: int, **fields: Any) -> None:
    """Write a job's news. updated_at with it: QuerySet.update leaves auto_now alone, and a job
    without news for RETRY_AFTER is taken for lost."""
    ExportJob.objects.filter(pk=pk).update(updated_at=timezone.now(), **fields)


@task()
def run_export(public_id: str) -> str:
    """Write one export's file. Idempotent: a job already done or failed (or deleted) is left
    alone; a job run twice at once (enqueued again while slow) writes the same file twice and the
    last one is kept."""
    started = ExportJob.objects.filter(public_id=public_id, status__in=UNFINISHED).update(
        status=ExportStatus.RUNNING,
        progress=1,
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    if not started:
        return "nothing to do"
    job = ExportJob.objects.select_related("campaign", "requested_by").get(public_id=public_id)

    def progress(percent: int) -> None:
        _set(job.pk, progress=max(1, min(99, percent)))

    try:
        payload, filename = WRITERS[job.kind](job, progress)
        path = default_storage.save(f"exports/{job.public_id}-{filename}", ContentFile(payload))
    except Exception as exc:
        # The person sees that it failed; the framework's record keeps the traceback.
        _set(job.pk, status=ExportStatus.FAILED, message=str(exc)[:500])
        raise
    _set(job.pk, status=ExportStatus.DONE, progress=100, path=path, filename=filename)
    return "done"


def retry_stalled(now: datetime) -> dict[str, int]:
    """Enqueue again each unfinished job without news for RETRY_AFTER; fail those that had
    MAX_ATTEMPTS runs. Two ticks at once re-enqueue a job once: the conditional update takes it."""
    stalled = ExportJob.objects.filter(status__in=UNFINISHED, updated_at__lt=now - RETRY_AFTER)
    given_up = stalled.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=ExportStatus.FAILED,
        message=f"stopped without finishing after {MAX_ATTEMPTS} runs",
        updated_at=now,
    )
    retried = 0
    for pk, public_id in stalled.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", "public_id"):
        with transaction.atomic():
            taken = ExportJob.objects.filter(
                pk=pk, status__in=UNFINISHED, updated_at__lt=now - RETRY_AFTER
            ).update(status=ExportStatus.QUEUED, updated_at=now)
            if taken:
                log.warning("export %s had no news for %s: enqueued again", public_id, RETRY_AFTER)
                enqueue_on_commit(run_export, str(public_id))
                retried += 1
    return {"retried": retried, "given_up": given_up}


def effective_status(job: ExportJob, now: datetime | None = None) -> str:
    """What the page shows: an unfinished job without news for GIVE_UP is shown as failed (the
    tick, which would have enqueued it again, is not running)."""
    if job.status in UNFINISHED and (now or timezone.now()) - job.updated_at > GIVE_UP:
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
        enqueue_on_commit(run_export, str(job.public_id))
    return job
