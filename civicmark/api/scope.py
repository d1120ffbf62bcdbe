"""The objects a request names, fetched through the same scoped selectors as the pages: outside
the person's scope an object does not exist (404)."""

from __future__ import annotations

from typing import Any

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment
from civicmark.campaigns.selectors import campaigns_for_user, rounds_for_user


def campaign(user: Any, slug: str) -> Campaign:
    return authz.get_visible_or_404(campaigns_for_user(user), user, slug=slug)


def round_of(user: Any, slug: str, number: int) -> AcceptanceRound:
    """As the round pages find it: with what the panels need (`panels.with_choices`)."""
    return authz.get_visible_or_404(
        panels.with_choices(rounds_for_user(user)), user, campaign__slug=slug, number=number
    )


def enrollment(user: Any, campaign: Campaign, code: str) -> Enrollment:
    return authz.get_visible_or_404(
        campaign.enrollments.select_related("community", "campaign").filter(
            authz.within_scope(user, "community__path")
        ),
        user,
        community__code=code,
    )
