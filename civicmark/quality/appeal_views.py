"""The appeal pages (thin: parse, select, call one service, render). The community's pages
answer 404 to anyone but its own staff; the round's list and its assign forms to anyone but the
round's lead; an appeal's page to anyone but its community's staff, the lead and its reviewer.
A refusal re-renders the page (422) with what was typed and the error beside its field."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.campaigns.selectors import campaigns_for_user, rounds_for_user
from civicmark.core.errors import ApplicationError
from civicmark.core.files import download
from civicmark.quality import appeals
from civicmark.quality.forms import AppealForm, AssignForm, DecisionForm
from civicmark.quality.models import Appeal, AppealStatus


def _round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    return authz.get_visible_or_404(
        rounds_for_user(request.user), request.user, campaign__slug=slug, number=number
    )


def _own_enrollment(request: HttpRequest, slug: str, code: str) -> Enrollment:
    """The community's enrollment, for its own staff only (404 to anyone else)."""
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    enrollment = (
        campaign.enrollments.select_related("community", "campaign")
        .filter(community__code=code)
        .first()
    )
    if enrollment is None or appeals.staff_refusal(request.user, enrollment):
        raise Http404
    return enrollment


def _appeal(request: HttpRequest, round_: AcceptanceRound, public_id: Any) -> Appeal:
    found = (
        round_.appeals.select_related("enrollment__community", "item", "veto", "reviewer")
        .filter(public_id=public_id)
        .first()
    )
    if found is None or not appeals.may_read(request.user, found):
        raise Http404
    return found


def _appeal_form(round_: AcceptanceRound, enrollment: Enrollment, request: Any) -> AppealForm:
    post = request.method == "POST"
    return AppealForm(
        request.POST if post else None,
        request.FILES if post else None,
        items=appeals.items_offered(round_, enrollment),
        vetoes=appeals.appealable_vetoes(round_, enrollment),
    )


@login_required
def appeal_new(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """The community's appeal of one item or veto finding of a signed-off round."""
    round_ = _round(request, slug, number)
    enrollment = _own_enrollment(request, slug, code)
    form = _appeal_form(round_, enrollment, request)
    if request.method == "POST" and form.is_valid():
        item, veto = form.contested()
        try:
            appeal = appeals.appeal_file(
                actor=request.user,
                round_=round_,
                enrollment=enrollment,
                item=item,
                veto=veto,
                statement=form.cleaned_data["statement"],
                upload=form.cleaned_data.get("file"),
            )
        except appeals.AppealRefused as exc:
            form.refuse(exc.field, exc.message)
        except ApplicationError as exc:
            form.refuse(None, exc.message)
        else:
            messages.success(request, _("Appeal filed: the round's lead assigns a reviewer."))
            return redirect("appeal_detail", slug=slug, number=number, public_id=appeal.public_id)
    return render(
        request,
        "quality/appeal_new.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "community": enrollment.community,
            "form": form,
            "closed": appeals.window_refusal(round_, enrollment, timezone.localdate()),
            "closes": appeals.window_closes(round_, enrollment),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@login_required
def appeal_community(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """The community's appeals, and the signed-off rounds whose results it may still appeal."""
    enrollment = _own_enrollment(request, slug, code)
    today = timezone.localdate()
    rounds = [
        (r, appeals.window_closes(r, enrollment))
        for r in rounds_for_user(request.user)
        .filter(campaign=enrollment.campaign, finalised_at__isnull=False)
        .order_by("number")
        if appeals.window_refusal(r, enrollment, today) is None
    ]
    return render(
        request,
        "quality/appeal_community.html",
        {
            "campaign": enrollment.campaign,
            "community": enrollment.community,
            "appeals": appeals.appeals_of(enrollment),
            "open_rounds": rounds,
        },
    )


def _assign_form(request: HttpRequest, appeal: Appeal, data: Any = None) -> AssignForm:
    """The lead's reviewer box for one appeal, the same on the round's page and the appeal's."""
    initial = {"reviewer": appeal.reviewer.username} if appeal.reviewer else None
    return AssignForm(
        data,
        initial=initial,
        candidates=appeals.reviewer_candidates(appeal, lead=request.user),
        prefix=f"a{appeal.pk}",
    )


def _round_page(
    request: HttpRequest,
    round_: AcceptanceRound,
    refused: tuple[Appeal, AssignForm] | None = None,
) -> HttpResponse:
    listed = list(appeals.appeals_led(request.user, round_))
    rows: list[tuple[Appeal, AssignForm | None]] = []
    for appeal in listed:
        if refused is not None and refused[0].pk == appeal.pk:
            rows.append((appeal, refused[1]))
        elif appeal.is_open:
            rows.append((appeal, _assign_form(request, appeal)))
        else:
            rows.append((appeal, None))
    total, by_department = appeals.appeal_counts(round_)
    return render(
        request,
        "quality/appeal_round.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "rows": rows,
            "total": total,
            "by_department": by_department,
        },
        status=422 if refused is not None else 200,
    )


def _led_round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    round_ = _round(request, slug, number)
    if not appeals.may_lead(request.user, round_):
        raise Http404
    return round_


@login_required
def appeal_round(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The round's appeals for its lead: each with its assign form while open, and the counts
    per department."""
    return _round_page(request, _led_round(request, slug, number))


@login_required
@require_POST
def appeal_assign(request: HttpRequest, slug: str, number: int, public_id: Any) -> HttpResponse:
    round_ = _led_round(request, slug, number)
    appeal = _appeal(request, round_, public_id)
    form = _assign_form(request, appeal, request.POST)
    # The form on the appeal's own page (where the lead's to-do leads) sends him back there.
    on_appeal = request.POST.get("back") == "appeal"
    if form.is_valid():
        try:
            appeals.appeal_assign(actor=request.user, appeal=appeal, reviewer=form.chosen())
        except appeals.AppealRefused as exc:
            form.add_error("reviewer" if exc.field == "reviewer" else None, exc.message)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Appeal assigned to %s.") % form.chosen())
            if on_appeal:
                return redirect(
                    "appeal_detail", slug=slug, number=number, public_id=appeal.public_id
                )
            return redirect("appeal_round", slug=slug, number=number)
    if on_appeal:
        return _detail_page(request, round_, appeal, None, assign=form)
    return _round_page(request, round_, refused=(appeal, form))


@login_required
def appeal_detail(request: HttpRequest, slug: str, number: int, public_id: Any) -> HttpResponse:
    """An appeal: the statement, the documents, what each assessor gave, the current value,
    and for its reviewer while it is with him, the decision form."""
    round_ = _round(request, slug, number)
    appeal = _appeal(request, round_, public_id)
    deciding = appeal.status == AppealStatus.ASSIGNED and appeal.reviewer_id == request.user.pk
    post = request.method == "POST"
    if post and not deciding:
        raise Http404
    form = (
        DecisionForm(
            request.POST if post else None,
            request.FILES if post else None,
            veto=appeal.veto is not None,
        )
        if deciding
        else None
    )
    if post and form is not None and form.is_valid():
        data = form.cleaned_data
        decision = appeals.Decision(
            change=data["decision"] == "change",
            reason=data["reason"],
            points=data.get("points"),
            not_applicable=bool(data.get("not_applicable")),
        )
        try:
            appeals.appeal_decide(
                actor=request.user, appeal=appeal, decision=decision, upload=data.get("file")
            )
        except appeals.AppealRefused as exc:
            form.refuse(exc.field, exc.message)
        except ApplicationError as exc:
            form.refuse(None, exc.message)
        else:
            messages.success(request, _("Appeal decided."))
            return redirect("appeal_detail", slug=slug, number=number, public_id=public_id)
    return _detail_page(request, round_, appeal, form)


def _detail_page(
    request: HttpRequest,
    round_: AcceptanceRound,
    appeal: Appeal,
    form: DecisionForm | None,
    *,
    assign: AssignForm | None = None,
) -> HttpResponse:
    """The appeal's page; for the round's lead while it is open, the reviewer box as well (a
    refused one comes back with what he chose and the error)."""
    is_lead = appeals.may_lead(request.user, round_)
    if assign is None and is_lead and appeal.is_open:
        assign = _assign_form(request, appeal)
    refused = any(f is not None and f.is_bound and f.errors for f in (form, assign))
    return render(
        request,
        "quality/appeal_detail.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "appeal": appeal,
            "community": appeal.enrollment.community,
            "files": list(appeal.files.all()),
            "given": appeals.scores_given(appeal),
            "current": appeals.current_value(appeal),
            "form": form,
            "assign": assign,
            "is_lead": is_lead,
        },
        status=422 if refused else 200,
    )


@login_required
def appeal_document(
    request: HttpRequest, slug: str, number: int, public_id: Any, file_id: Any
) -> HttpResponse:
    """A document of an appeal, to those who read the appeal, as an attachment."""
    round_ = _round(request, slug, number)
    appeal = _appeal(request, round_, public_id)
    record = appeal.files.filter(public_id=file_id).first()
    if record is None:
        raise Http404
    return download(record.path, record.name, record.content_type)  # type: ignore[return-value]
