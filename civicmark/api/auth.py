"""Bearer authentication with a personal access token, and the token's rate limit (ADR 24).

The token's person becomes `request.user` for the request, read afresh from the database: his
grants (`authz.grants`) are read as on any page, so a role taken away is gone at once. The rate
is counted per person, whichever of his tokens he uses (ten tokens are not ten budgets), in fixed
one-minute windows in the cache (`cache.incr`: atomic in Redis, shared by every server with
REDIS_URL; per process without it, as every throttle here).

Refused tokens are counted too, per address (as the sign-in's failures are, by the same reading
of the client's address): past CIVICMARK_API_REFUSED_PER_ADDRESS refusals in a minute, an address
is answered 429 before its token is even looked up. A secret cannot be guessed (256 bits), but
without this limit one address could make the server look up and audit tokens without end.
"""

from __future__ import annotations

import time
from typing import Any

from axes.helpers import get_client_ip_address
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


def _count(key: str) -> int:
    """One more in this window's count (add then incr: both atomic in Redis)."""
    cache.add(key, 0, WINDOW * 2)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, WINDOW * 2)
        return 1


def _wait(now: float) -> float:
    return (int(now // WINDOW) + 1) * WINDOW - now


def _spent(token: AccessToken, now: float) -> float:
    """0 while the token may go on, else the seconds until its next window."""
    used = _count(f"api-rate:{token.user_id}:{int(now // WINDOW)}")
    return _wait(now) if used > int(settings.CIVICMARK_API_RATE) else 0.0


def _refused_key(request: HttpRequest, now: float) -> str:
    return f"api-refused:{get_client_ip_address(request) or '-'}:{int(now // WINDOW)}"


def _address_spent(request: HttpRequest, now: float) -> float:
    """0 while this address may try a token, else the seconds until its next window."""
    refused = int(cache.get(_refused_key(request, now), 0))
    return _wait(now) if refused >= int(settings.CIVICMARK_API_REFUSED_PER_ADDRESS) else 0.0


def _too_many(wait: float) -> ApiError:
    return ApiError(
        "rate_limited",
        _("Too many requests with your tokens: wait %(s)d seconds.") % {"s": int(wait) + 1},
        retry_after=wait,
    )


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> AccessToken:
        now = time.time()
        wait = _address_spent(request, now)
        if wait:
            raise ApiError(
                "rate_limited",
                _("Too many refused tokens from your address: wait %(s)d seconds.")
                % {"s": int(wait) + 1},
                retry_after=wait,
            )
        found = tokens.token_authenticate(raw=token, now=timezone.now())
        if isinstance(found, tokens.Refused):
            _count(_refused_key(request, now))
            raise ApiError("unauthorized", found.message)
        wait = _spent(found, now)
        if wait:
            raise _too_many(wait)
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
