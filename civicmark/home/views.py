from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment
from civicmark.accounts.roles import Role
from civicmark.assessments import notice_todo
from civicmark.assessments import todo as acceptance_todo
from civicmark.campaigns import todo as plan_todo
from civicmark.campaigns.selectors import campaigns_for_user
from civicmark.divisions.models import Level, level_names
from civicmark.quality import todo as calibration_todo
from civicmark.results import todo as titles_todo

CAMPAIGNS = 3  # the latest campaigns a person sees; older ones are on the campaigns page
ACTING = {
    Role.CITY_ADMIN,
    Role.COUNTY_OFFICER,
    Role.TOWN_OFFICER,
    Role.COMMUNITY_STAFF,
    Role.ASSESSOR,
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    counts = dict(
        authz.divisions_for_user(user).values_list("level").annotate(n=Count("id")).order_by()
    )
    names = level_names()
    return render(
        request,
        "home/home.html",
        {
            "grants": RoleAssignment.objects.filter(user__pk=user.pk or 0).select_related(
                "division", "department"
            ),
            "counts": [(names[level], counts[level]) for level in Level if counts.get(level)],
            "groups": authz.working_groups_for_user(user)[:10],
            "can_manage_people": authz.can_manage_people(user),
            "work": _work(user),
        },
    )


def _work(user: Any) -> list[dict[str, Any]]:
    """Per campaign the person sees (the latest few): what waits for him, the late first, and,
    for those who only read, the campaign at a glance. Each app answers for its own work."""
    today = timezone.localdate()
    acts = authz.is_super(user) or bool(authz.roles_of(user) & ACTING)
    sections = []
    for campaign in campaigns_for_user(user)[:CAMPAIGNS]:
        todos = acceptance_todo.todos_for(user=user, campaign=campaign, today=today)
        todos += plan_todo.todos_for(user=user, campaign=campaign, today=today)
        todos += calibration_todo.todos_for(user=user, campaign=campaign, today=today)
        todos += notice_todo.todos_for(user=user, campaign=campaign, today=today)
        todos += titles_todo.todos_for(user=user, campaign=campaign, today=today)
        todos.sort(key=lambda t: not t.late)  # stable: each app's order within late / not late
        sections.append(
            {
                "campaign": campaign,
                "todos": todos,
                "figures": []
                if acts
                else acceptance_todo.figures_for(user=user, campaign=campaign, today=today),
            }
        )
    return sections
