"""The public notice's pages (ADR 22; thin: parse, select, call one service, render).

The public pages need no sign-in and show nothing personal: the community's name, its town and
county, what it is proposed for, its total, and the window; they are not for search engines.
The city's pages (the round's notices, one notice with its objections) answer 404 to anyone but
the round's lead."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import notice
from civicmark.assessments.models import Objection, PublicNotice
from civicmark.assessments.notice_forms import DecisionForm, NoticePublishForm, ObjectionForm
from civicmark.assessments.notice_services import (
    ObjectionRefused,
    notice_publish,
    objection_decide,
    objection_submit,
)
from civicmark.campaigns.models import AcceptanceRound
from civicmark.campaigns.selectors import rounds_for_user
from civicmark.core.errors import ApplicationError


def _public(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex"
    return response


def _address(request: HttpRequest) -> str:
    """The sender's address as the sign-in throttle reads it (django-axes, behind the proxy)."""
    return str(getattr(request, "axes_ip_address", "") or request.META.get("REMOTE_ADDR", ""))


def notice_list(request: HttpRequest) -> HttpResponse:
    """Public: the notices open today."""
    return _public(
        render(request, "assessments/notice_list.html", {"notices": notice.current_notices()})
    )


def _public_notice(public_id: Any) -> PublicNotice:
    found = (
        PublicNotice.objects.select_related("round__campaign").filter(public_id=public_id).first()
    )
    if found is None:
        raise Http404
    return found


def notice_public(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Public: one notice's list and, while it is open, the objection form."""
    public_notice = _public_notice(public_id)
    today = timezone.localdate()
    posted = request.method == "POST"
    form = ObjectionForm(request.POST if posted else None, public_notice=public_notice)
    wait = None
    if posted:
        address = _address(request)
        wait = notice.objection_wait(public_notice, address)
        if wait is None:
            notice.objection_counted(public_notice, address)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    objection = objection_submit(
                        notice=public_notice,
                        entry=form.chosen(),
                        statement=data["statement"],
                        name=data["name"],
                        contact=data["contact"],
                        today=today,
                    )
                except ObjectionRefused as refused:
                    for field, message in refused.errors.items():
                        form.add_error(field or None, message)
                else:
                    return redirect(
                        "notice_received", public_id=public_id, reference=objection.reference
                    )
    context = {
        "notice": public_notice,
        "entries": notice.public_entries(public_notice),
        "is_open": public_notice.is_open(today),
        # Every entry taken off: nobody is left to object to, so no form (an empty list).
        "standing": bool(form.entries),
        "form": form,
        "wait": wait,
    }
    status = 429 if wait else 422 if posted else 200
    return _public(render(request, "assessments/notice_public.html", context, status=status))


def notice_received(request: HttpRequest, public_id: Any, reference: str) -> HttpResponse:
    """Public: the reference to quote, and whether the city has decided (never who sent it)."""
    public_notice = _public_notice(public_id)
    objection = (
        Objection.objects.filter(entry__notice=public_notice, reference=reference[:16].upper())
        .select_related("entry__enrollment__community")
        .first()
    )
    if objection is None:
        raise Http404
    return _public(
        render(
            request,
            "assessments/notice_received.html",
            {"notice": public_notice, "objection": objection},
        )
    )


# --- the city's pages -----------------------------------------------------------------------


def _led_round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    round_ = authz.get_visible_or_404(
        rounds_for_user(request.user), request.user, campaign__slug=slug, number=number
    )
    if not notice.may_lead(request.user, round_):
        raise Http404
    return round_


@login_required
def round_notices(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The round's notices and, once it is finalised, the form that publishes the next one."""
    round_ = _led_round(request, slug, number)
    form = NoticePublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            published = notice_publish(
                actor=request.user,
                round_=round_,
                working_days=form.cleaned_data["working_days"],
                today=timezone.localdate(),
            )
        except ApplicationError as exc:
            form.refuse(exc)
        else:
            messages.success(request, _("The notice is published."))
            return redirect("notice_detail", slug=slug, public_id=published.public_id)
    return render(
        request,
        "assessments/round_notices.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "notices": round_.notices.all(),
            "candidates": notice.candidates(round_) if round_.finalised_at else [],
            "form": form,
            "today": timezone.localdate(),
        },
        status=422 if form.is_bound else 200,
    )


@login_required
def notice_detail(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """The city's page of one notice: its list and every objection with its decision (and
    the form that decides one still waiting). The contacts are shown here, to the lead only."""
    found = (
        PublicNotice.objects.select_related("round__campaign")
        .filter(public_id=public_id, round__campaign__slug=slug)
        .first()
    )
    if found is None:
        raise Http404
    round_ = _led_round(request, slug, found.round.number)
    objections = list(notice.objections_of(found))
    pending = {str(o.public_id): o for o in objections if not o.decision}
    form = DecisionForm(request.POST if request.method == "POST" else None, objections=pending)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            objection_decide(
                actor=request.user,
                objection=data["objection"],
                decision=data["decision"],
                reason=data["reason"],
            )
        except ApplicationError as exc:
            form.refuse(exc)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("notice_detail", slug=slug, public_id=public_id)
    return render(
        request,
        "assessments/notice_detail.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "notice": found,
            "entries": notice.public_entries(found),
            "objections": objections,
            "form": form,
            "refused": str(form.data.get("objection", "")) if form.is_bound else "",
            "is_open": found.is_open(timezone.localdate()),
        },
        status=422 if form.is_bound else 200,
    )
