"""The product's URLs plus the benchmark's baselines, mounted only by the benchmark's gunicorn
(CIVICMARK_URLCONF=civicmark.bench.urls), never by the product's URLconf:

- `bench/bare/`: a constant, the floor of any request through the same middleware;
- `bench/write/`: the fair baseline of the score save (issue 19 item 2): the least an
  authenticated, audited write can do here. It passes the same middleware (session, CSRF,
  authentication, the sign-in policy), reads the person's grants once, and in one transaction
  inserts one score-like row (a real `Score`, with its table's constraints and indexes) and one
  audit event, then answers with a redirect as the real save does. It checks nothing else: no
  round, no panel, no coverage, no validation, no version, no stale mark.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.config.urls import urlpatterns as product
from civicmark.core import audit
from civicmark.scoring.models import Score


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_POST
@login_required
def baseline_write(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # signed in (login_required)
    grants = authz.grants(user)
    try:
        round_id, enrollment_id, item_id = (
            int(request.POST[k]) for k in ("round", "enrollment", "item")
        )
        points = Decimal(request.POST["points"])
    except (KeyError, ValueError, ArithmeticError):
        return HttpResponseBadRequest("round, enrollment, item and points")
    if not grants:
        return HttpResponse(status=403)
    with transaction.atomic():
        score = Score.objects.create(
            round_id=round_id,
            enrollment_id=enrollment_id,
            item_id=item_id,
            assessor=user,
            points=points,
            reason=request.POST.get("reason", ""),
        )
        audit.record(
            actor=user,
            action="bench.write",
            object_type="score",
            object_ref=str(score.public_id),
            scope_path=grants[0].path,
            after={"points": str(points)},
        )
    return HttpResponseRedirect(request.path)


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/write/", baseline_write),
    *product,
]
