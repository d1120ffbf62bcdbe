from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicmark.accounts import authz
from civicmark.assessments.workflow import State
from civicmark.results.explain import explain


@login_required
def community_result(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """The result page explains itself: every lost point with its reason and assessor, every veto."""
    campaign = authz.get_visible_or_404(
        authz.campaigns_for_user(request.user), request.user, slug=slug
    )
    round_ = authz.get_visible_or_404(campaign.rounds.all(), request.user, number=number)
    enrollment = authz.get_visible_or_404(
        campaign.enrollments.select_related("community").filter(
            community__in=authz.divisions_for_user(request.user)
        ),
        request.user,
        community__code=code,
    )
    explained = explain(round_, enrollment)
    outcome: Any = explained.result.outcome
    return render(
        request,
        "results/community.html",
        {
            "campaign": campaign,
            "round": round_,
            "community": enrollment.community,
            "e": explained,
            "outcome_label": State(outcome).label if outcome in State.values else outcome,
            "standard": campaign.standard,
        },
    )
