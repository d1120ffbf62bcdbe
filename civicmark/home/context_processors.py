"""The menu's links to each role's everyday work in the latest campaign it sees.

Beside the general menu (accounts' `navigation`): the pages a role works in every day, one click
from anywhere, so that no one needs a side panel or a community's name to find them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments.todo import open_rounds
from civicmark.campaigns.selectors import campaigns_for_user


def work_links(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"work_nav": []}
    roles = authz.roles_of(user)
    campaign = campaigns_for_user(user).first() if roles or authz.is_super(user) else None
    if campaign is None:
        return {"work_nav": []}
    slug = campaign.slug
    links = []
    if Role.COMMUNITY_STAFF in roles:
        links.append((_("Self-assessment"), reverse("self_assessment", args=[slug])))
    if Role.ASSESSOR in roles:
        # Scoring in the round open now (the latest open one); before any opens, the acceptance
        # page lists the rounds and their dates.
        today = timezone.localdate()
        rounds = open_rounds(campaign, today)
        current = [r for r in rounds if r.closes_on >= today] or rounds  # a late one else
        url = (
            reverse("score_home", args=[slug, current[-1].number])
            if current
            else reverse("communities", args=[slug])
        )
        links.append((_("Scoring"), url))
    if authz.is_super(user) or roles & {Role.TOWN_OFFICER, Role.COUNTY_OFFICER, Role.CITY_ADMIN}:
        links.append((_("Acceptance"), reverse("communities", args=[slug])))
    if roles & {Role.COMMUNITY_STAFF, Role.TOWN_OFFICER, Role.COUNTY_OFFICER, Role.CITY_ADMIN}:
        links.append((_("Tasks"), reverse("task_list", args=[slug])))
    if roles & {Role.COMMUNITY_STAFF, Role.TOWN_OFFICER}:
        links.append((_("Rectification"), reverse("rectifications", args=[slug])))
    if authz.is_super(user) or roles & {Role.VIEWER, Role.COUNTY_OFFICER, Role.CITY_ADMIN}:
        links.append((_("Dashboard"), reverse("dashboard", args=[slug])))
    return {"work_nav": links}
