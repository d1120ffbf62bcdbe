"""The reports to the city (ADR 25), thin: parse, select, call one service, render.

The page of a campaign's reports answers 404 to anyone but a county officer or a city
administrator of the campaign's area (`upward.sees_reports`); a report and its documents answer
404 to anyone who may not read that county's reports (`upward.reports_for_user`). A refused
report shows the page again (422) with what was typed and the refusal beside its box."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.assessments.workflow import TransitionRefused
from civicmark.campaigns.models import Campaign
from civicmark.campaigns.selectors import campaigns_for_user
from civicmark.core.errors import ApplicationError
from civicmark.core.names import content_disposition
from civicmark.results import upward, upward_documents
from civicmark.results.forms import UpwardReportForm
from civicmark.results.models import DocumentKind, UpwardReport

REFUSALS_SHOWN = 20


def _campaign(request: HttpRequest, slug: str) -> Campaign:
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    if not upward.sees_reports(request.user, campaign):
        raise Http404
    return campaign


def _report(request: HttpRequest, campaign: Campaign, public_id: Any) -> UpwardReport:
    return authz.get_visible_or_404(
        upward.reports_for_user(request.user, campaign).select_related("county"),
        request.user,
        public_id=public_id,
    )


def _forms(
    request: HttpRequest, campaign: Campaign, posted: UpwardReportForm | None
) -> list[UpwardReportForm]:
    """One form per county the person reports for that has communities waiting (the posted
    one as it was typed)."""
    found = []
    for county in upward.counties_of(request.user, campaign):
        if posted is not None and posted.division == county:
            found.append(posted)
            continue
        waiting = list(upward.waiting(campaign, county))
        if waiting:
            found.append(
                UpwardReportForm(county=county, waiting=waiting, auto_id=f"id_{county.code}_%s")
            )
    return found


@login_required
def upward_reports(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's reports to the city the person may read, and the form to make one for
    each county he reports for."""
    campaign = _campaign(request, slug)
    posted = None
    refusals: list[Any] = []
    if request.method == "POST":
        county = next(
            (
                c
                for c in upward.counties_of(request.user, campaign)
                if c.code == request.POST.get("county")
            ),
            None,
        )
        if county is None:
            raise Http404
        posted = UpwardReportForm(
            request.POST,
            county=county,
            waiting=list(upward.waiting(campaign, county)),
            auto_id=f"id_{county.code}_%s",
        )
        if posted.is_valid():
            try:
                report = upward.report_upward(
                    actor=request.user,
                    campaign=campaign,
                    county=county,
                    enrollments=posted.chosen(),
                    statement=posted.cleaned_data["statement"],
                )
            except TransitionRefused as refused:
                refusals = refused.refusals
                posted.add_error(
                    None,
                    _("Nothing was reported: %d communities cannot be reported.") % len(refusals),
                )
            except ApplicationError as exc:
                field = exc.code if exc.code in posted.fields else None
                posted.add_error(field, exc.message)
            else:
                messages.success(
                    request,
                    _("Reported to the city: %d communities.") % report.lines.count(),
                )
                return redirect("upward_report", slug=slug, public_id=report.public_id)
    reports = (
        upward.reports_for_user(request.user, campaign)
        .annotate(communities=Count("lines"))
        .prefetch_related("files")
    )
    return render(
        request,
        "results/upward_reports.html",
        {
            "campaign": campaign,
            "reports": [(r, r.communities) for r in reports],
            "forms": _forms(request, campaign, posted),
            "counties": upward.counties_of(request.user, campaign),
            "refusals": refusals[:REFUSALS_SHOWN],
            "refusals_more": max(0, len(refusals) - REFUSALS_SHOWN),
            "statement_max": upward.STATEMENT_MAX,
        },
        status=422 if posted is not None else 200,
    )


@login_required
def upward_report(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """One report: its statement, its communities as reported, and its documents."""
    campaign = _campaign(request, slug)
    report = _report(request, campaign, public_id)
    return render(
        request,
        "results/upward_report.html",
        {
            "campaign": campaign,
            "report": report,
            "lines": [
                (line, upward_documents.result_text(line))
                for line in report.lines.order_by("position")
            ],
            "files": list(report.files.order_by("kind")),
        },
    )


@login_required
@require_POST
def upward_report_rebuild(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """Make the documents of a report whose documents could not be made, from its record."""
    campaign = _campaign(request, slug)
    report = _report(request, campaign, public_id)
    try:
        report = upward.report_rebuild(actor=request.user, report=report)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if report.documents == "ready":
            messages.success(request, _("The report's documents are made."))
        else:
            messages.error(request, _("The documents could not be made: %s") % report.failure)
    return redirect("upward_report", slug=slug, public_id=report.public_id)


@login_required
def upward_report_file(request: HttpRequest, slug: str, public_id: Any, kind: str) -> HttpResponse:
    """A report's PDF or list, as stored when the report was made, and only while it is still
    the file recorded (its SHA-256); to whoever may read the report."""
    campaign = _campaign(request, slug)
    report = _report(request, campaign, public_id)
    if kind not in DocumentKind.values:
        raise Http404
    document = report.files.filter(kind=kind).first()
    if document is None:
        raise Http404
    payload = upward.document_intact(document)
    if payload is None:
        return render(
            request,
            "results/upward_file_damaged.html",
            {"campaign": campaign, "report": report, "document": document},
            status=409,
        )
    response = HttpResponse(payload, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition(
        document.name.removesuffix(f".{kind}"), kind
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
