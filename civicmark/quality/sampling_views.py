"""The county-accuracy pages (thin: parse, select, call one service, render). The city's page
(every county, the sizes and the draw) answers 404 to anyone but the municipal round's lead
office; a county officer who opens it is sent to his own county's page; a county's page answers
404 to anyone who may not read that county."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.campaigns.models import AcceptanceRound
from civicmark.campaigns.selectors import rounds_for_user
from civicmark.core.errors import ApplicationError
from civicmark.quality import sampling
from civicmark.quality.forms import DrawForm, SamplingSettingsForm


def _round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    return authz.get_visible_or_404(
        rounds_for_user(request.user), request.user, campaign__slug=slug, number=number
    )


def _city_round(request: HttpRequest, slug: str, number: int) -> AcceptanceRound:
    round_ = _round(request, slug, number)
    if sampling.city_refusal(request.user, round_) is not None:
        raise Http404
    return round_


def _settings_form(round_: AcceptanceRound, data: Any = None) -> SamplingSettingsForm:
    sizes = sampling.sizes_of(round_.campaign)
    return SamplingSettingsForm(
        data,
        initial={
            "kind": sizes.kind,
            "base": sizes.base,
            "enlarged": sizes.enlarged,
            "threshold": sizes.threshold,
        },
    )


def _city_page(
    request: HttpRequest,
    round_: AcceptanceRound,
    settings_form: SamplingSettingsForm | None = None,
    draw_form: DrawForm | None = None,
) -> HttpResponse:
    draw = sampling.draw_of(round_)
    bound = any(f is not None and f.is_bound for f in (settings_form, draw_form))
    return render(
        request,
        "quality/sample.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "draw": draw,
            "figures": sampling.figures_of(draw) if draw else [],
            "planned": []
            if draw
            else sampling.plan(round_.campaign, round_, sampling.sizes_of(round_.campaign)),
            "settings_form": settings_form or _settings_form(round_),
            "draw_form": draw_form or DrawForm(),
        },
        status=400 if bound else 200,
    )


@login_required
def sample_overview(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The city's page: every county's sample and deviation, the sizes, the draw."""
    round_ = _round(request, slug, number)
    if sampling.city_refusal(request.user, round_) is None:
        return _city_page(request, round_)
    own = sampling.own_counties(request.user, round_)
    if round_.level == "city" and len(own) == 1:
        return redirect("sample_county", slug=slug, number=number, code=own[0].code)
    raise Http404


@login_required
@require_POST
def sample_settings(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    round_ = _city_round(request, slug, number)
    form = _settings_form(round_, request.POST)
    if form.is_valid():
        try:
            sampling.sampling_settings_save(actor=request.user, round_=round_, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sample sizes saved."))
            return redirect("sample_overview", slug=slug, number=number)
    return _city_page(request, round_, settings_form=form)


@login_required
@require_POST
def sample_draw(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    round_ = _city_round(request, slug, number)
    form = DrawForm(request.POST)
    if form.is_valid():
        try:
            sampling.sample_draw(actor=request.user, round_=round_, seed=form.cleaned_data["seed"])
        except ApplicationError as exc:
            form.add_error("seed", exc.message)
        else:
            messages.success(
                request, _("Sample drawn: the round now covers every community drawn.")
            )
            return redirect("sample_overview", slug=slug, number=number)
    return _city_page(request, round_, draw_form=form)


@login_required
def sample_county(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """One county's sample and deviation: the city, and that county's officer."""
    round_ = _round(request, slug, number)
    draw = sampling.draw_of(round_)
    stratum = (
        draw.strata.select_related("county", "previous__draw__round__campaign")
        .filter(county__code=code)
        .first()
        if draw
        else None
    )
    if stratum is None or not sampling.may_see_county(request.user, round_, stratum.county):
        raise Http404
    return render(
        request,
        "quality/sample_county.html",
        {
            "campaign": round_.campaign,
            "round": round_,
            "draw": draw,
            "f": sampling.figures_of(draw, [stratum])[0] if draw else None,
            "city": sampling.city_refusal(request.user, round_) is None,
        },
    )
