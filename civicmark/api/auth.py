"""Bearer authentication with a personal access token, and the token's rate limit (ADR 24).

The token's person becomes `request.user` for the request, read afresh from the database: his
grants (`authz.grants`) are read as on any page, so a role taken away is gone at once. The rate
is counted per person, whichever of his tokens he uses (ten tokens are not ten budgets), in fixed
one-minute windows in the cache (`cache.incr`: atomic in Redis, shared by every server with
REDIS_URL; per process without it, as every throttle here).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from civicmark.accounts import tokens
from civicmark.accounts.models import AccessToken, User
from civicmark.api.errors import ApiError

WINDOW = 60


def _spent(token: AccessToken, now: float) -> float:
    """0 while the token may go on, else the seconds until its next window."""
    window = int(now // WINDOW)
    key = f"api-rate:{token.user_id}:{window}"
    cache.add(key, 0, WINDOW * 2)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, WINDOW * 2)
        used = 1
    if used > int(settings.CIVICMARK_API_RATE):
        return (window + 1) * WINDOW - now
    return 0.0


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> AccessToken:
        found = tokens.token_authenticate(raw=token, now=timezone.now())
        if isinstance(found, tokens.Refused):
            raise ApiError("unauthorized", found.message)
        wait = _spent(found, time.time())
        if wait:
            raise ApiError(
                "rate_limited",
                _("Too many requests with your tokens: wait %(s)d seconds.") % {"s": int(wait) + 1},
                retry_after=wait,
            )
        request.user = found.user
        return found


def reader(request: HttpRequest) -> User:
    """The token's person, for a read."""
    user: Any = request.user
    return user  # type: ignore[no-any-return]


def writer(request: HttpRequest) -> User:
    """The token's person, for a write: a read token (or a viewer's) is refused, and audited."""
    token: AccessToken = request.auth  # type: ignore[attr-defined]
    refused = tokens.scope_refusal(token)
    if refused is not None:
        tokens.refuse_write(token, refused)
        raise ApiError("forbidden", refused.message)
    return token.user
