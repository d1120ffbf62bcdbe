"""The long exports results.jobs.run_export knows: a round's summary as a spreadsheet or a PDF
report, for what the person who asked may see, read from the replica when there is one (ADR 27)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import translation

from civicmark.core.replicas import replica_reads
from civicmark.results import exports, jobs, pdf, summary
from civicmark.results.models import ExportJob


@replica_reads
def _rows(job: ExportJob) -> tuple[Any, list[summary.Row]]:
    round_ = job.campaign.rounds.get(number=job.round_number or 0)
    rows = summary.to_rows(
        round_, summary.as_values(summary.ranked(round_, job.requested_by, sort="town"))
    )
    return round_, rows


@jobs.writer("summary-xlsx")
def summary_xlsx(job: ExportJob, progress: Callable[[int], None]) -> tuple[bytes, str]:
    round_, rows = _rows(job)
    progress(50)
    chinese = job.params.get("headers", "zh") == "zh"
    with replica_reads():
        payload = exports.table_bytes(round_, rows, chinese=chinese, fmt="xlsx")
    return payload, f"{job.campaign.slug}-round{job.round_number}-summary.xlsx"


@jobs.writer("summary-pdf")
def summary_pdf(job: ExportJob, progress: Callable[[int], None]) -> tuple[bytes, str]:
    round_, rows = _rows(job)
    progress(20)
    # The task has no request: speak the language of the person who asked.
    # (Its reads after the first progress note, a write, come from the primary.)
    language = "zh-hans" if job.params.get("headers", "zh") == "zh" else "en"
    with translation.override(language), replica_reads():
        payload = pdf.round_summary(round_, rows, progress=lambda p: progress(20 + int(p * 0.75)))
    return payload, f"{job.campaign.slug}-round{job.round_number}-summary.pdf"
