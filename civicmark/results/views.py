"""Result pages, rankings, the gap planner and the official spreadsheets of a round."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import notice
from civicmark.assessments.workflow import State
from civicmark.campaigns.selectors import campaigns_for_user
from civicmark.core import audit
from civicmark.core.names import content_disposition
from civicmark.core.parsing import parse_id
from civicmark.core.replicas import replica_reads
from civicmark.core.uploads import wants_chinese_headers
from civicmark.results import exports, snapshots, summary
from civicmark.results.dashboards import radar_chart
from civicmark.results.explain import explain
from civicmark.results.planner import plan_for

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
PER_PAGE = 50


def _round(request: HttpRequest, slug: str, number: int) -> tuple[Any, Any]:
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    return campaign, authz.get_visible_or_404(campaign.rounds.all(), request.user, number=number)


def _enrollment(request: HttpRequest, campaign: Any, code: str) -> Any:
    return authz.get_visible_or_404(
        campaign.enrollments.select_related("community").filter(
            community__in=authz.divisions_for_user(request.user)
        ),
        request.user,
        community__code=code,
    )


def attachment(
    request: HttpRequest, payload: bytes, name: str, fmt: str, *, ref: str, scope: str
) -> HttpResponse:
    """A download, audited: who took which report, when (ASVS 8.3.5)."""
    with transaction.atomic():
        audit.record(
            actor=request.user,
            action="report.downloaded",
            object_type="report",
            object_ref=ref,
            scope_path=scope,
            summary=f"{name}.{fmt}",
        )
    response = HttpResponse(payload, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition(name, fmt)
    return response


@login_required
def community_result(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """The result page explains itself: every lost point with its reason and assessor, every veto,
    and for a community that did not make it, the fewest items to fix."""
    from civicmark.assessments.evidence import evidence_judged

    campaign, round_ = _round(request, slug, number)
    enrollment = _enrollment(request, campaign, code)
    explained = explain(round_, enrollment)
    outcome: Any = explained.result.outcome
    # Where the community stands now, when the round's "standard unit" no longer names it (an
    # objection upheld on its notice, its title withdrawn): said beside the finding, with the
    # city's reason, instead of "may be proposed for commendation" (the walk, d-xinhua-15).
    now = summary.now_label(outcome, enrollment.status)
    return render(
        request,
        "results/community.html",
        {
            "campaign": campaign,
            "round": round_,
            "community": enrollment.community,
            "e": explained,
            "outcome_label": State(outcome).label if outcome in State.values else outcome,
            "now_label": now,
            "upheld": notice.upheld_against(enrollment) if round_.level == "city" else [],
            "standard": campaign.standard,
            "plan": plan_for(round_, enrollment, explained.detail),
            "radar": radar_chart(round_, request.user, enrollment.community.code),
            "evidence": evidence_judged(round_, enrollment),
            # The community's own staff may appeal a signed-off round (the appeal page, a URL
            # name of `quality`, says whether the window is still open).
            "may_appeal": round_.finalised_at is not None
            and campaign.appeal_days > 0
            and authz.is_community_staff(request.user, enrollment.community),
        },
    )


@login_required
@replica_reads
def community_sheet(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    campaign, round_ = _round(request, slug, number)
    enrollment = _enrollment(request, campaign, code)
    chinese = wants_chinese_headers(request)
    payload = exports.community_sheet(round_, enrollment, chinese=chinese)
    name = f"{enrollment.community.name}-{round_.number}" if chinese else f"{code}-round{number}"
    return attachment(
        request,
        payload,
        name,
        "xlsx",
        ref=f"{campaign.slug}/{number}/{code}",
        scope=enrollment.community.path,
    )


def _choices(round_: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The counties and towns to filter by, within the viewer's scope: listed while short, else
    typed as a code (ADR 11)."""
    results = summary.results_for(round_, user)
    return (
        snapshots.choices(results, "enrollment__community__parent__parent"),
        snapshots.choices(results, "enrollment__community__parent"),
    )


@login_required
@replica_reads
def ranking(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Every covered community of a round the viewer may see: total, category subtotals, vetoes,
    outcome and level; sortable, filterable by county or town, paginated by the database; the
    download holds exactly the rows on the page (or, with all=1, every page of the same filter
    and order)."""
    campaign, round_ = _round(request, slug, number)
    params = {
        k: request.GET.get(k, "")
        for k in ("county", "town", "outcome", "sort")
        if request.GET.get(k)
    }
    fmt = request.GET.get("format", "")
    # The page reads ranks, places and counts from the campaign's snapshot (ADR 29); a download
    # counts them live, exactly, as it reads every row anyway.
    snapshot, late = None, False
    if not fmt:
        snapshot, late = snapshots.serve(campaign, request.user, timezone.now())
    known = snapshots.round_figures(snapshot, round_)
    shown = summary.ranked(
        round_,
        request.user,
        county=params.get("county", ""),
        town=params.get("town", ""),
        outcome=params.get("outcome", ""),
        sort=params.get("sort", "rank"),
        placed=bool(known),
    )
    paginator = Paginator(summary.as_values(shown), PER_PAGE)
    whole = bool(known) and snapshots.sees_whole(request.user, campaign)
    if whole and not params.get("county") and not params.get("town"):
        paginator.__dict__["count"] = known["count"].get(params.get("outcome", ""), 0)
    page = paginator.get_page(request.GET.get("page"))
    if fmt:
        if fmt not in ("csv", "xlsx"):
            raise Http404
        chinese = wants_chinese_headers(request)
        chosen = summary.to_rows(
            round_,
            summary.as_values(shown) if request.GET.get("all") == "1" else page.object_list,
        )
        return attachment(
            request,
            exports.table_bytes(round_, chosen, chinese=chinese, fmt=fmt),
            f"{campaign.slug}-round{round_.number}-ranking",
            fmt,
            ref=f"{campaign.slug}/{round_.number}",
            scope=campaign.division.path,
        )
    counties, towns = (
        (known["counties"], known["towns"]) if whole else _choices(round_, request.user)
    )
    query = urlencode(params)
    return render(
        request,
        "results/ranking.html",
        {
            "campaign": campaign,
            "round": round_,
            "page": page,
            "rows": summary.to_rows(round_, page.object_list, stored_ranks=bool(known)),
            "categories": summary.category_headers(round_),
            "ranked_count": known["ranked"] if known else len(summary.ranked_totals(round_)),
            "counties": counties,
            "towns": towns,
            "outcomes": [(o.value, summary.OUTCOME_LABELS[o]) for o in summary.OUTCOME_ORDER],
            "params": params,
            "query": query,
            "page_query": urlencode({**params, "page": page.number}),
            "count": page.paginator.count,
            "as_of": snapshot.taken_at if known and snapshot else None,
            "refreshing": late,
        },
    )


def _chart(stored: dict[str, Any]) -> Any:
    from civicmark.results.dashboards import Chart

    return Chart(**snapshots.unplain(stored))


def _latest_scored(campaign: Any) -> int | None:
    return snapshots.latest_scored(campaign)


@login_required
def results_home(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest round anyone has scored (or the first round)."""
    from django.shortcuts import redirect

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    first = campaign.rounds.order_by("number").values_list("number", flat=True).first()
    return redirect("ranking", slug=campaign.slug, number=_latest_scored(campaign) or first or 1)


@login_required
@replica_reads
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the campaign stands, for what the viewer may see: progress, acceptance per round,
    the score distribution, department completion and rectification. Every chart has its
    numbers as a table and as a CSV download (?chart=KEY&format=csv)."""
    from civicmark.results import dashboards, figures

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    now = timezone.now()
    today = timezone.localdate(now)
    rounds = list(campaign.rounds.order_by("number"))
    wanted = request.GET.get("chart")
    # A viewer who sees the whole campaign reads its snapshot (ADR 29); a CSV of every row, or a
    # narrower scope (bounded by its own size), is counted live.
    snapshot, late = None, False
    if not wanted and snapshots.sees_whole(request.user, campaign):
        snapshot, late = snapshots.serve(campaign, request.user, now)
    page = snapshots.dashboard_page(snapshot, get_language())
    number = parse_id(request.GET.get("round")) or 0
    chosen = next((r for r in rounds if r.number == number), None)
    if chosen is None:
        latest = page["latest_scored"] if page is not None else _latest_scored(campaign)
        chosen = next((r for r in rounds if r.number == latest), rounds[0])
    if page is not None:
        shared = {k: [_chart(c) for c in v] for k, v in page["shared"].items()}
        scores = [_chart(c) for c in page["scores"].get(str(chosen.number), [])]
    else:
        shared = dashboards.shared_charts(request.user, campaign, rounds, today, full=bool(wanted))
        scores = dashboards.score_charts(request.user, rounds, chosen)
    sections = [
        (_("Campaign progress"), shared["progress"]),
        (_("Acceptance per round"), shared["acceptance"]),
        (_("Scores"), scores),
        (_("Rectification"), shared["rectification"]),
    ]
    if wanted:
        chart = next((c for _t, charts in sections for c in charts if c.key == wanted), None)
        if chart is None or request.GET.get("format") != "csv":
            raise Http404
        import io

        from civicmark.core.tabular import write_table

        buffer = io.BytesIO()
        write_table(buffer, chart.header, chart.csv_rows(), fmt="csv")
        return attachment(
            request,
            buffer.getvalue(),
            f"{campaign.slug}-{chart.key}",
            "csv",
            ref=f"{campaign.slug}/{chart.key}",
            scope=campaign.division.path,
        )
    return render(
        request,
        "results/dashboard.html",
        {
            "campaign": campaign,
            "figures": [figures.Figure(**f) for f in page["figures"]]
            if page is not None
            else figures.key_figures(request.user, campaign, rounds, today),
            "sections": sections,
            "rounds": rounds,
            "chosen": chosen,
            "as_of": page["taken_at"] if page is not None else None,
            "refreshing": late,
        },
    )


@login_required
@replica_reads
def community_report(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    from civicmark.results import pdf

    campaign, round_ = _round(request, slug, number)
    enrollment = _enrollment(request, campaign, code)
    return attachment(
        request,
        pdf.acceptance_report(round_, enrollment),
        f"{enrollment.community.name}-{round_.name}-{_('acceptance report')}",
        "pdf",
        ref=f"{campaign.slug}/{number}/{code}",
        scope=enrollment.community.path,
    )


def verify_url(request: HttpRequest, code: str) -> str:
    """The public address of a certificate: the configured public site, or this one."""
    from django.urls import reverse

    from civicmark.core.http import public_url

    return public_url(request, reverse("verify", args=[code]))


def _issuer(campaign: Any) -> str:
    division = campaign.division
    city = division.parent if division.level == "county" and division.parent else division
    return _("Office of the leading group for demonstration communities, %s") % city.name


@login_required
def certificates(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The certificates of a municipal round: issued in one action for its standard units,
    revoked with a reason."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from civicmark.core.errors import ApplicationError
    from civicmark.results.forms import CertificateForm
    from civicmark.results.models import Certificate
    from civicmark.results.services import (
        certificate_revoke,
        certificates_issue,
        certificates_waiting,
    )

    campaign, round_ = _round(request, slug, number)
    visible = Certificate.objects.filter(
        round=round_, enrollment__community__in=authz.divisions_for_user(request.user)
    ).select_related("enrollment__community", "enrollment__community__parent")
    can_issue = authz.can_lead_round(request.user, round_) and round_.level == "city"
    form = CertificateForm(request.POST if request.method == "POST" else None, certificates=visible)
    if request.method == "POST":
        if not can_issue:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == "revoke":
                    certificate_revoke(
                        actor=request.user, certificate=data["certificate"], reason=data["reason"]
                    )
                    messages.success(request, _("The certificate is revoked."))
                else:
                    issued = certificates_issue(actor=request.user, round_=round_)
                    messages.success(request, _("%d certificates issued.") % issued)
            except ApplicationError as exc:
                form.add_error("reason" if data["action"] == "revoke" else None, exc.message)
            else:
                return redirect("certificates", slug=campaign.slug, number=round_.number)
    return render(
        request,
        "results/certificates.html",
        {
            "campaign": campaign,
            "round": round_,
            "certificates": visible,
            "can_issue": can_issue,
            "waiting": certificates_waiting(round_) if can_issue else [],
            "form": form,
            # The row whose revocation was refused shows its typed reason and the error.
            "refused": str(form.data.get("id", "")) if form.is_bound else "",
        },
    )


@login_required
def certificate_pdf(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    from civicmark.results import pdf
    from civicmark.results.models import Certificate

    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    cert = authz.get_visible_or_404(
        Certificate.objects.filter(
            enrollment__campaign=campaign,
            enrollment__community__in=authz.divisions_for_user(request.user),
        ).select_related("enrollment__community", "enrollment__campaign"),
        request.user,
        public_id=public_id,
    )
    return attachment(
        request,
        pdf.certificate(cert, verify_url(request, cert.code), _issuer(campaign)),
        f"{cert.enrollment.community.name}-{cert.level}-{cert.code}",
        "pdf",
        ref=cert.code,
        scope=cert.enrollment.community.path,
    )


def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public, no login: whether a certificate code is real and its title still stands. It shows
    the community's name, the campaign, the title and the date, and nothing else."""
    from civicmark.results.models import Certificate

    cert = (
        Certificate.objects.filter(code=code.strip().upper())
        .select_related("enrollment__community", "enrollment__campaign")
        .first()
    )
    response = render(request, "results/verify.html", {"cert": cert, "code": code[:16]})
    response["X-Robots-Tag"] = "noindex"
    if cert is None:
        response.status_code = 404
    return response


@login_required
def round_export(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Start a long export (a whole round's summary) and go to its page. A read-only viewer
    takes the ranking as a plain link: the page offers him no form, and a POST he crafts finds
    nothing here either."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from civicmark.results import jobs
    from civicmark.results.forms import RoundExportForm

    campaign, round_ = _round(request, slug, number)
    if request.method != "POST" or not jobs.may_start(request.user):
        raise Http404
    form = RoundExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("kind", [])))
        return redirect("ranking", slug=campaign.slug, number=round_.number)
    job = jobs.start(
        actor=request.user,
        kind=form.cleaned_data["kind"],
        campaign=campaign,
        round_number=round_.number,
        params={"headers": "zh" if wants_chinese_headers(request) else "en"},
    )
    return redirect("export_job", public_id=job.public_id)


def _job_or_404(request: HttpRequest, public_id: Any) -> Any:
    from civicmark.results.models import ExportJob

    return authz.get_visible_or_404(
        ExportJob.objects.filter(requested_by_id=request.user.pk).select_related("campaign"),
        request.user,
        public_id=public_id,
    )


@login_required
def export_job(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Where a long export stands; the page asks again every second until the file is ready."""
    from civicmark.results.jobs import effective_status
    from civicmark.results.models import ExportJob

    job = _job_or_404(request, public_id)
    context = {
        "job": job,
        "status": effective_status(job),
        "recent": ExportJob.objects.filter(requested_by_id=request.user.pk)[:10],
    }
    if request.headers.get("HX-Request"):
        return render(request, "results/_job_status.html", context)
    return render(request, "results/export_job.html", context)


@login_required
def export_file(request: HttpRequest, public_id: Any) -> HttpResponse:
    from civicmark.core.files import download
    from civicmark.results.models import ExportStatus

    job = _job_or_404(request, public_id)
    if job.status != ExportStatus.DONE:
        raise Http404
    content_type = CONTENT_TYPES["pdf" if job.filename.endswith(".pdf") else "xlsx"]
    return download(job.path, job.filename, content_type)  # type: ignore[return-value]
