"""The re-check page of a campaign's titles (thin: parse, select, call one service, render). It
answers 404 to anyone but whoever may issue the campaign's certificates (`titles.city_refusal`);
a refused step shows the page again (422) with what was typed and the error beside its field."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.campaigns.models import Campaign
from civicmark.campaigns.selectors import campaigns_for_user
from civicmark.core.errors import ApplicationError
from civicmark.core.parsing import parse_id
from civicmark.results import titles
from civicmark.results.forms import FollowUpForm, RecheckDrawForm, RecheckForm, WithdrawForm
from civicmark.results.models import RecheckDraw, RecheckEvidence, RecheckSizeKind, TitleRecheck

# Which form a refused step is shown back in, by the step's name.
STEPS = {"record": RecheckForm, "follow_up": FollowUpForm, "withdraw": WithdrawForm}


def _campaign(request: HttpRequest, slug: str) -> Campaign:
    campaign = authz.get_visible_or_404(campaigns_for_user(request.user), request.user, slug=slug)
    if titles.city_refusal(request.user, campaign) is not None:
        raise Http404
    return campaign


def _recheck(campaign: Campaign, public_id: Any) -> TitleRecheck:
    found = (
        TitleRecheck.objects.filter(draw__campaign=campaign, public_id=public_id)
        .select_related("certificate__enrollment__community", "certificate__round", "draw")
        .first()
    )
    if found is None:
        raise Http404
    return found


def _form_for(step: str, row: Any, refused: dict[str, Any] | None) -> Form:
    """The row's form for a step: the refused one as posted, or a fresh one with its own ids."""
    if refused and refused["id"] == row.recheck.public_id and refused["step"] == step:
        form: Form = refused["form"]
        return form
    auto_id = f"id_{step}_{row.recheck.public_id.hex[:8]}_%s"
    initial = {"checked_on": row.today} if step != "withdraw" else {}
    return STEPS[step](auto_id=auto_id, initial=initial)


def _page(
    request: HttpRequest,
    campaign: Campaign,
    draw_: RecheckDraw | None = None,
    draw_form: RecheckDrawForm | None = None,
    refused: dict[str, Any] | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    draws = titles.draws_of(campaign)
    if draw_ is None:
        year = parse_id(request.GET.get("year")) or 0
        draw_ = next((d for d in draws if d.year == year), draws[0] if draws else None)
    rows = titles.rows_of(draw_, today) if draw_ else []
    forms = [
        {
            "row": row,
            "record": _form_for("record", row, refused)
            if row.recheck.status == "pending"
            else None,
            "follow_up": _form_for("follow_up", row, refused) if row.awaits_follow_up else None,
            "withdraw": _form_for("withdraw", row, refused)
            if row.recheck.status in ("failed", "failed_again")
            else None,
        }
        for row in rows
    ]
    bound = (draw_form is not None and draw_form.is_bound) or refused is not None
    return render(
        request,
        "results/titles.html",
        {
            "campaign": campaign,
            "draws": draws,
            "draw": draw_,
            "strata": titles.strata_of(draw_) if draw_ else [],
            "rows": forms,
            "standing": titles.standing(campaign).count(),
            "draw_form": draw_form
            or RecheckDrawForm(
                initial={
                    "year": today.year,
                    "kind": RecheckSizeKind.SHARE,
                    "standard_size": 20,
                    "commended_size": 100,
                }
            ),
            "drawn_this_year": any(d.year == today.year for d in draws),
            "today": today,
        },
        status=422 if bound else 200,
    )


@login_required
def titles_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The city's re-checks of a campaign's titles: the year's draw and every drawn title."""
    return _page(request, _campaign(request, slug))


@login_required
@require_POST
def titles_draw(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    form = RecheckDrawForm(request.POST)
    if form.is_valid():
        try:
            drawn = titles.recheck_draw(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Re-checks drawn: %d titles.") % drawn.rechecks.count())
            return redirect(reverse("titles", args=[slug]) + f"?year={drawn.year}")
    return _page(request, campaign, draw_form=form)


def _step(
    request: HttpRequest, slug: str, public_id: Any, step: str, act: Any, done: str
) -> HttpResponse:
    """One step of a re-check: its form read, its service called, or the page again with the
    refusal beside the field (the date's, the deadline's or the text's) it belongs to."""
    campaign = _campaign(request, slug)
    recheck = _recheck(campaign, public_id)
    auto_id = f"id_{step}_{recheck.public_id.hex[:8]}_%s"
    form = STEPS[step](request.POST, request.FILES, auto_id=auto_id)
    if form.is_valid():
        try:
            act(recheck, form.cleaned_data)
        except ApplicationError as exc:
            # The service's refusal names its field in its code (the date, the deadline, the
            # text, the file); one it does not name goes above the form.
            form.add_error(exc.code if exc.code in form.fields else None, exc.message)
        else:
            messages.success(request, done)
            return redirect(reverse("titles", args=[slug]) + f"?year={recheck.draw.year}")
    refused = {"id": recheck.public_id, "step": step, "form": form}
    return _page(request, campaign, draw_=recheck.draw, refused=refused)


@login_required
@require_POST
def title_recheck(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    def act(recheck: TitleRecheck, data: dict[str, Any]) -> None:
        titles.recheck_record(
            actor=request.user,
            recheck=recheck,
            passed=data["result"] == "passed",
            checked_on=data["checked_on"],
            finding=data["finding"],
            due_on=data.get("due_on"),
            upload=data.get("file"),
        )

    return _step(request, slug, public_id, "record", act, _("Re-check recorded."))


@login_required
@require_POST
def title_follow_up(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    def act(recheck: TitleRecheck, data: dict[str, Any]) -> None:
        titles.recheck_follow_up(
            actor=request.user,
            recheck=recheck,
            passed=data["result"] == "passed",
            checked_on=data["checked_on"],
            finding=data["finding"],
            upload=data.get("file"),
        )

    return _step(request, slug, public_id, "follow_up", act, _("Follow-up recorded."))


@login_required
@require_POST
def title_withdraw(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    def act(recheck: TitleRecheck, data: dict[str, Any]) -> None:
        titles.title_withdraw(
            actor=request.user, recheck=recheck, reason=data["reason"], upload=data.get("file")
        )

    return _step(request, slug, public_id, "withdraw", act, _("The title is withdrawn."))


@login_required
def title_recheck_file(request: HttpRequest, slug: str, public_id: Any) -> HttpResponse:
    """A re-check's document, to those who may re-check the campaign's titles, as a download."""
    from civicmark.core.files import download

    campaign = _campaign(request, slug)
    record = RecheckEvidence.objects.filter(
        recheck__draw__campaign=campaign, public_id=public_id
    ).first()
    if record is None:
        raise Http404
    return download(record.path, record.name, record.content_type)  # type: ignore[return-value]
