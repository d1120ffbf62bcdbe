"""Reads of the workflow's records that check access, built on accounts.authz's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from civicmark.accounts import authz
from civicmark.assessments.models import Rectification


def rectifications_for_user(user: Any, campaign: Any) -> QuerySet[Rectification]:
    """What the campaign's finalised rounds found wanting, in the communities the person sees:
    the rectification page's cards and the API's list."""
    return Rectification.objects.filter(
        round__campaign=campaign, enrollment__community__in=authz.divisions_for_user(user)
    ).select_related("enrollment__community", "item", "veto", "round")
