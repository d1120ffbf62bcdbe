"""The report upward (上报, issue 18 item 6, ADR 25): a county reports to the city the communities
that passed its pre-acceptance, with a statement, and the report is kept as a document.

- `report_upward` is the one way a community is reported: in one transaction it takes the
  workflow step (county pre-accepted -> reported, `workflow.transition_apply` named as
  `workflow.REPORT_UPWARD`, the only caller the step accepts), records the report (the county,
  its number, the statement, the names as they read, each community's pre-acceptance round,
  score and outcome as the pre-acceptance guard reads them), makes its PDF and workbook from
  that record, stores them with their SHA-256, and writes its audit event.
- The documents are made from the record alone. If making them fails (a name the font cannot
  print, a full disk), the report and the step stand, the report says its documents could not
  be made and why, and `report_rebuild` makes them again from the same record; documents once
  made are never made again.
- Who: a county officer reports for his county (the step's own role and conflict checks apply
  to each community). The county's reports are read by its county officers and by the city
  administrators above it, and by no one else (a town, a community, another county: 404).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments.workflow import REPORT_UPWARD, State, pre_acceptance, transition_apply
from civicmark.campaigns.models import Campaign, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.divisions.models import Division, Level
from civicmark.results import pdf, upward_documents
from civicmark.results.models import (
    DocumentKind,
    DocumentsState,
    ReportedCommunity,
    UpwardDocument,
    UpwardReport,
)

log = logging.getLogger("civicmark.upward")

STATEMENT_MAX = 2000
CENT = Decimal("0.01")
READERS = (Role.COUNTY_OFFICER, Role.CITY_ADMIN)
CONTENT_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- who may ----------------------------------------------------------------------------------


def _paths(user: Any, roles: Sequence[str]) -> list[str]:
    return [g.path for g in authz.grants(user) if g.role in roles]


def reports_for_user(user: Any, campaign: Campaign) -> QuerySet[UpwardReport]:
    """The campaign's reports the person may read: his county's (a county officer), the
    counties' below him (a city administrator), every one (a superuser)."""
    reports = UpwardReport.objects.filter(campaign=campaign)
    if authz.is_super(user):
        return reports
    paths = _paths(user, READERS)
    under = Q(pk__in=[])
    for path in paths:
        under |= Q(county__path__startswith=path)
    return reports.filter(under)


def sees_reports(user: Any, campaign: Campaign) -> bool:
    """Whether the campaign's page of reports is the person's: a county officer or a city
    administrator whose office is in the campaign's area or above it."""
    if authz.is_super(user):
        return True
    area = campaign.division.path
    return any(p.startswith(area) or area.startswith(p) for p in _paths(user, READERS))


def counties_of(user: Any, campaign: Campaign) -> list[Division]:
    """The counties of the campaign the person reports for: those where he is a county officer
    (every one, for a superuser), in path order."""
    area = campaign.division.path
    counties = Division.objects.filter(level=Level.COUNTY, path__startswith=area)
    if authz.is_super(user):
        return list(counties.order_by("path"))
    seats = _paths(user, (Role.COUNTY_OFFICER,))
    return [c for c in counties.order_by("path") if any(c.path.startswith(s) for s in seats)]


def waiting(campaign: Campaign, county: Division) -> QuerySet[Enrollment]:
    """The county's communities pre-accepted and not reported yet."""
    return (
        campaign.enrollments.filter(
            status=State.COUNTY_PRE_ACCEPTED, community__path__startswith=county.path
        )
        .select_related("community", "community__parent")
        .order_by("community__path")
    )


# --- the report ---------------------------------------------------------------------------------


def clean_statement(text: str) -> str:
    """The statement as kept: trimmed, required, at most STATEMENT_MAX characters, and only
    characters the report can print (an emoji would leave it without its PDF for good)."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(
            _("Write the county's statement: it is printed above the list of communities."),
            code="statement",
        )
    if len(text) > STATEMENT_MAX:
        raise ApplicationError(
            _("The statement is %(n)d characters long: keep it to %(max)d.")
            % {"n": len(text), "max": STATEMENT_MAX},
            code="statement",
        )
    if missing := pdf.unprintable(text):
        raise ApplicationError(
            _("The report cannot print these characters of the statement: %s. Remove them.")
            % missing,
            code="statement",
        )
    return text


def _check(actor: Any, campaign: Campaign, county: Division, enrollments: list[Enrollment]) -> None:
    if county.level != Level.COUNTY or not county.path.startswith(campaign.division.path):
        raise ApplicationError(_("Choose a county of this campaign."), code="county")
    if county not in counties_of(actor, campaign):
        raise NotAllowed(_("Only the county's own officers report its communities to the city."))
    if not enrollments:
        raise ApplicationError(_("Tick the communities to report."), code="communities")
    strays = [
        e.community.name
        for e in enrollments
        if e.campaign_id != campaign.pk or not e.community.path.startswith(county.path)
    ]
    if strays:
        raise ApplicationError(
            _("Not communities of %(county)s in this campaign: %(names)s")
            % {"county": county.name, "names": "、".join(strays)},
            code="communities",
        )


def report_upward(
    *,
    actor: Any,
    campaign: Campaign,
    county: Division,
    enrollments: Sequence[Enrollment],
    statement: str,
    now: datetime | None = None,
    via: str = "web",
) -> UpwardReport:
    """Report the county's pre-accepted communities to the city: all of them or none, with the
    record and its documents (or the record saying why they could not be made)."""
    chosen = sorted(enrollments, key=lambda e: e.community.path)
    _check(actor, campaign, county, chosen)
    statement = clean_statement(statement)
    written: list[str] = []
    try:
        with transaction.atomic():
            # One report of a county at a time: its number is the next of the county's.
            county = Division.objects.select_for_update().get(pk=county.pk)
            number = 1 + (
                UpwardReport.objects.filter(campaign=campaign, county=county).aggregate(
                    n=Max("number")
                )["n"]
                or 0
            )
            transition_apply(
                actor=actor,
                campaign=campaign,
                enrollments=chosen,
                to=State.REPORTED,
                comment=_("Report no. %(n)s of %(county)s") % {"n": number, "county": county.name},
                via=via,
                service=REPORT_UPWARD,
            )
            report = UpwardReport.objects.create(
                campaign=campaign,
                county=county,
                number=number,
                statement=statement,
                campaign_name=campaign.name,
                county_name=county.name,
                addressee=county.parent.name if county.parent else "",
                language=translation.get_language() or "zh-hans",
                reported_by=actor if getattr(actor, "pk", None) else None,
                reporter_name=str(actor) if getattr(actor, "pk", None) else "",
                reported_at=now or timezone.now(),
                documents=DocumentsState.FAILED,
            )
            # As they read now, in the database (not as the caller's objects were loaded).
            fresh = list(
                Enrollment.objects.filter(pk__in=[e.pk for e in chosen])
                .select_related("community", "community__parent")
                .order_by("community__path")
            )
            ReportedCommunity.objects.bulk_create(_lines(report, campaign, fresh))
            written = _make_documents(report)
            audit.record(
                actor=actor,
                via=via,
                action="upward.reported",
                object_type="upward_report",
                object_ref=str(report.public_id),
                scope_path=county.path,
                summary=f"{county.name} {number}: {len(chosen)}",
                after={
                    "number": number,
                    "communities": [e.community.code for e in chosen],
                    "statement": statement,
                    **_documents_state(report),
                },
            )
    except BaseException:
        _remove(written)  # the files of a report that was not kept
        raise
    return report


def _lines(
    report: UpwardReport, campaign: Campaign, chosen: list[Enrollment]
) -> list[ReportedCommunity]:
    """Each community as reported: its names, and the county round and result that passed it
    (read as the workflow's pre-acceptance guard reads them, which it has just checked)."""
    found = pre_acceptance(campaign, chosen)
    lines = []
    for position, enrollment in enumerate(chosen, start=1):
        community = enrollment.community
        passed = found.get(enrollment.pk)
        round_, result = passed if passed else (None, None)
        lines.append(
            ReportedCommunity(
                report=report,
                position=position,
                enrollment=enrollment,
                code=community.code,
                name=community.name,
                town=community.parent.name if community.parent else "",
                round_name=round_.name if round_ else "",
                # Kept as every page and PDF shows it (ADR 17): half up to 0.01.
                total=result.total.quantize(CENT, rounding=ROUND_HALF_UP) if result else None,
                outcome=str(result.outcome) if result else "",
                level=(result.level or "") if result else "",
            )
        )
    return lines


def _make_documents(report: UpwardReport) -> list[str]:
    """Make the report's PDF and workbook from its record and keep them; on any failure keep
    nothing, and say on the report why (returns the paths written)."""
    lines = list(report.lines.order_by("position"))
    written: list[str] = []
    try:
        with transaction.atomic(), translation.override(report.language):
            made = {
                DocumentKind.PDF: upward_documents.report_pdf(report, lines),
                DocumentKind.XLSX: upward_documents.report_xlsx(report, lines),
            }
            for kind, payload in made.items():
                written.append(_store(report, kind, payload))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, and can be made good
        log.exception("the documents of report %s could not be made", report.public_id)
        _remove(written)
        report.documents = DocumentsState.FAILED
        report.failure = _failure(exc)
        report.save(update_fields=["documents", "failure"])
        return []
    report.documents = DocumentsState.READY
    report.failure = ""
    report.save(update_fields=["documents", "failure"])
    return written


def _store(report: UpwardReport, kind: str, payload: bytes) -> str:
    name = _("%(county)s report %(n)s") % {"county": report.county_name, "n": report.number}
    path = default_storage.save(
        f"upward/{report.public_id.hex}/{kind}-{uuid.uuid4().hex[:8]}.{kind}", ContentFile(payload)
    )
    UpwardDocument.objects.create(
        report=report,
        kind=kind,
        path=path,
        name=f"{name}.{kind}",
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        content_type=CONTENT_TYPES[DocumentKind(kind)],
        uploaded_by=report.reported_by,
    )
    return path


def _failure(exc: Exception) -> str:
    if isinstance(exc, pdf.MissingGlyph):
        return _("A name in the report holds characters the embedded font cannot print: %s") % exc
    return f"{type(exc).__name__}: {exc}"[:500]


def _remove(paths: list[str]) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except OSError:
            log.warning("could not remove %s", path)


def _documents_state(report: UpwardReport) -> dict[str, Any]:
    state: dict[str, Any] = {"documents": report.documents}
    if report.failure:
        state["failure"] = report.failure
    for document in report.files.all():
        state[f"{document.kind}_sha256"] = document.sha256
    return state


def report_rebuild(*, actor: Any, report: UpwardReport, via: str = "web") -> UpwardReport:
    """Make the documents of a report whose documents could not be made, from its record."""
    if not reports_for_user(actor, report.campaign).filter(pk=report.pk).exists():
        raise NotAllowed(_("Only the county and the city may make this report's documents."))
    written: list[str] = []
    try:
        with transaction.atomic():
            report = UpwardReport.objects.select_for_update().get(pk=report.pk)
            if report.documents == DocumentsState.READY:
                raise ApplicationError(
                    _("The report's documents are made and kept: they are not made again.")
                )
            before = {"documents": report.documents, "failure": report.failure}
            written = _make_documents(report)
            audit.record(
                actor=actor,
                via=via,
                action="upward.rebuilt",
                object_type="upward_report",
                object_ref=str(report.public_id),
                scope_path=report.county.path,
                summary=f"{report.county_name} {report.number}",
                before=before,
                after=_documents_state(report),
            )
    except BaseException:
        _remove(written)
        raise
    return report


def document_intact(document: UpwardDocument) -> bytes | None:
    """The stored document's bytes when they are still those recorded (their SHA-256), or None."""
    try:
        with default_storage.open(document.path, "rb") as stored:
            payload: bytes = stored.read()
    except OSError:
        return None
    return payload if hashlib.sha256(payload).hexdigest() == document.sha256 else None
