from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment
from civicmark.divisions.models import Level, level_names


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
        },
    )
