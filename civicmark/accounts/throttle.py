"""Sign-in throttles: per username, per address, and per password tried across usernames.

django-axes counts failures per username and per address (its lockout parameters); this module
gives the two their own limits, because one address is often a whole government office behind
one gateway: five typos by five clerks must not lock out the building, while five wrong
passwords for one account, from anywhere, lock that account.

A password spray tries one likely password once for each of many usernames, from many
addresses, so neither count above grows. It is caught by counting, for each password tried,
how many distinct usernames failed with it. The cache holds only a keyed hash (HMAC with
SECRET_KEY) of the password and of the usernames, never either one; with REDIS_URL the counts
are shared by every application server.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.utils.crypto import salted_hmac

_SALT = "civicmark.accounts.throttle.spray"


def _digest(*parts: str) -> str:
    return salted_hmac(_SALT, "\x00".join(parts), algorithm="sha256").hexdigest()


def _spray_key(password: str) -> str:
    return f"signin:spray:{_digest(password)}"


def spray_blocked(password: str) -> bool:
    """Whether this password failed for too many usernames within the window."""
    return int(cache.get(_spray_key(password), 0)) >= settings.CIVICMARK_SPRAY_LIMIT


def spray_record_failure(*, password: str, username: str) -> None:
    """Count one more username that failed with this password (each username once)."""
    window = settings.CIVICMARK_SPRAY_WINDOW_SECONDS
    key = _spray_key(password)
    first_time = cache.add(f"{key}:{_digest(password, username.lower())}", 1, window)
    if not first_time:
        return
    # add() then incr(): both atomic on Redis, so two servers never count one failure twice.
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # the count expired between add() and incr()
        cache.add(key, 1, window)


def spray_wait_minutes() -> int:
    return max(1, settings.CIVICMARK_SPRAY_WINDOW_SECONDS // 60)


class SignInAttemptHandler(AxesDatabaseHandler):
    """django-axes' database handler with one limit per lockout parameter.

    `AXES_FAILURE_LIMIT` applies to a username; `CIVICMARK_ADDRESS_FAILURE_LIMIT` to an address.
    Axes compares one number with one limit, so the address's count is given the difference as
    headroom before it is compared.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        own_limits = {"ip_address": settings.CIVICMARK_ADDRESS_FAILURE_LIMIT}
        worst = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            name = parameter if isinstance(parameter, str) else ""
            worst = max(worst, count - own_limits.get(name, limit) + limit)
        return max(worst, 0)

    def reset_user_attempts(self, request: Any, credentials: dict | None = None) -> int:
        """A success forgives this person's own failures from this address, nothing more.

        Axes would delete every failure of the address, so an insider could sign in to his own
        account between guesses and never reach the address's limit.
        """
        deleted, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return deleted
