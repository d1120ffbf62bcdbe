"""The person's own API access tokens, on his account pages: make one (its secret shown once),
see when each was last used, revoke one (ADR 24)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz, tokens
from civicmark.accounts.forms import TokenForm
from civicmark.accounts.models import AccessToken, User
from civicmark.core.errors import ApplicationError

DEFAULT_DAYS = 90
# The secret of a token just made waits here for the one page that shows it, after the redirect
# (so that reloading that page neither makes a second token nor shows the secret again).
JUST_MADE = "token_just_made"


def _end_of(day: dt.date) -> dt.datetime:
    """A token made to expire on a day works until that day ends, in the city's time."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _page(
    request: HttpRequest, form: TokenForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "tokens": tokens.tokens_of(user),
            "secret": secret,
            "now": timezone.now(),
            "max_days": tokens.max_days(),
            "read_only": not tokens.may_write(user),
        },
        status=status,
    )


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: his tokens and the form; POST: a new token, whose secret the page it redirects to
    shows once."""
    user: User = request.user  # type: ignore[assignment]
    may_write = tokens.may_write(user)
    # The next token's form starts from the usual expiry, after one was made too.
    initial = {"expires_on": timezone.localdate() + dt.timedelta(days=DEFAULT_DAYS)}
    if request.method != "POST":
        response = _page(
            request,
            TokenForm(initial=initial, may_write=may_write),
            secret=request.session.pop(JUST_MADE, ""),
        )
        response["Cache-Control"] = "no-store"  # the secret is never kept by the browser
        return response
    form = TokenForm(request.POST, may_write=may_write)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = tokens.token_create(
                actor=user,
                name=data["name"],
                expires_at=_end_of(data["expires_on"]),
                scope=data["scope"],
                now=timezone.now(),
                verified=bool(getattr(user, "is_verified", lambda: False)()),
            )
        except tokens.TokenInvalid as exc:
            form.add_error(exc.field, exc.message)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Token “%s” made: copy it now.") % token.name)
            request.session[JUST_MADE] = secret
            return redirect("token_list")
    return _page(request, form, status=422)


@require_POST
@login_required
def token_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    token = authz.get_visible_or_404(
        AccessToken.objects.filter(user=user), user, public_id=public_id
    )
    try:
        tokens.token_revoke(actor=user, token=token, now=timezone.now())
        messages.success(request, _("Token “%s” revoked: it works no more.") % token.name)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("token_list")
