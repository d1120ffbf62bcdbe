from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from civicmark.accounts import authz


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    if not authz.can_view_audit(request.user):
        raise Http404
    page = Paginator(authz.audit_events_for_user(request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "core/audit_list.html", {"page": page})


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
