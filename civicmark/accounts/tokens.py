"""Personal access tokens for the JSON API (ADR 24): made by a person for himself, shown once,
kept as a SHA-256 digest, expiring, revocable; every creation, revocation and refused use audited.

A token is its person's credential, not a role of its own: the API reads the person afresh on
every request, so a role taken away, or an account closed, takes the token's reach with it at
once. Its scope can only narrow what he may do: a read token never writes, and a read-only
viewer (`authz.is_read_only`) may hold read tokens only.

Those who must use a second factor (`twofactor.is_privileged`) create a token only in a session
whose second factor was verified: the token then stands in for a session that passed both, and
is bounded by its expiry as the session is by its idle timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz, twofactor
from civicmark.accounts.models import AccessToken, TokenScope, User
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed

log = logging.getLogger("civicmark.security")

PREFIX = "cmk"
# A person keeps a handful of live tokens (a phone app, a field tablet, a script): more is a
# sign that old ones are not being revoked.
MAX_LIVE = 10
# The last-used time is written at most this often (each write is an UPDATE per request).
USED_GRANULARITY = timedelta(minutes=1)
# A refused use is audited once per token, reason and window: a client retrying an expired
# token every second must not fill the audit log.
REFUSAL_WINDOW_SECONDS = 600


class TokenInvalid(ApplicationError):
    """A value of the creation form is wrong: `field` names it."""

    code = "invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def max_days() -> int:
    return int(settings.CIVICMARK_API_TOKEN_MAX_DAYS)


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_secret() -> tuple[str, str]:
    """(prefix, the whole token): 48 random bits to find the row, 256 to prove it."""
    prefix = secrets.token_hex(6)
    return prefix, f"{PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def _scope_path(user: User) -> str:
    paths = authz.read_paths(user)
    return paths[0] if paths else ""


def may_write(user: Any) -> bool:
    """Whether the person may hold a write token: anyone who is not a read-only viewer."""
    return not authz.is_read_only(user)


def token_create(
    *,
    actor: User,
    name: str,
    expires_at: datetime,
    scope: str,
    now: datetime,
    verified: bool,
) -> tuple[AccessToken, str]:
    """A new token of the actor's own; returns it and its secret, which is never shown again.
    `verified`: whether the session that asks passed its second factor."""
    name = name.strip()
    if not name:
        raise TokenInvalid(
            _("Give the token a name, such as the device that uses it."), field="name"
        )
    if scope not in TokenScope.values:
        raise TokenInvalid(_("Choose read only, or read and write."), field="scope")
    if expires_at <= now:
        raise TokenInvalid(_("The expiry date must be in the future."), field="expires_on")
    if expires_at > now + timedelta(days=max_days() + 1):
        raise TokenInvalid(
            _("A token lasts at most %(days)d days: choose an earlier expiry date.")
            % {"days": max_days()},
            field="expires_on",
        )
    if not actor.is_active:
        raise NotAllowed(_("A closed account makes no tokens."))
    if not (authz.is_super(actor) or authz.grants(actor)):
        raise NotAllowed(_("You hold no role yet: a token would reach nothing."))
    if scope == TokenScope.WRITE and not may_write(actor):
        raise TokenInvalid(
            _("A leading-group member watches: his tokens are read-only."), field="scope"
        )
    if twofactor.otp_required() and twofactor.is_privileged(actor) and not verified:
        raise NotAllowed(_("Confirm your second factor in this session before making a token."))
    prefix, raw = _new_secret()
    with transaction.atomic():
        # Counted under the person's row lock: two forms sent at once make no eleventh token.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        live = AccessToken.objects.filter(
            user=actor, revoked_at__isnull=True, expires_at__gt=now
        ).count()
        if live >= MAX_LIVE:
            raise NotAllowed(
                _("You have %(n)d tokens in use: revoke one you no longer need first.")
                % {"n": live}
            )
        token = AccessToken.objects.create(
            user=actor,
            name=name[:64],
            prefix=prefix,
            digest=digest_of(raw),
            scope=scope,
            expires_at=expires_at,
            second_factor=verified,
        )
        audit.record(
            actor=actor,
            action="token.created",
            object_type="token",
            object_ref=str(token.public_id),
            scope_path=_scope_path(actor),
            summary=token.name,
            after={"scope": scope, "expires_at": expires_at.isoformat(), "prefix": prefix},
        )
    return token, raw


def tokens_of(user: User) -> Any:
    return AccessToken.objects.filter(user=user).order_by("-created_at")


def token_revoke(*, actor: User, token: AccessToken, now: datetime) -> None:
    """The person revokes one of his own tokens (a superuser any): it works no more at once."""
    if token.user_id != actor.pk and not authz.is_super(actor):
        raise NotAllowed(_("You may revoke only your own tokens."))
    with transaction.atomic():
        locked = AccessToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ApplicationError(_("That token was already revoked."))
        locked.revoked_at = now
        locked.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="token.revoked",
            object_type="token",
            object_ref=str(locked.public_id),
            scope_path=_scope_path(locked.user),
            summary=locked.name,
            before={"prefix": locked.prefix},
        )
    token.revoked_at = locked.revoked_at


@dataclass(frozen=True)
class Refused:
    """Why a token was not accepted: `reason` is stable (malformed, unknown, wrong, revoked,
    expired, inactive, second_factor, scope); `message` is for the client."""

    reason: str
    message: str


# What `_new_secret` makes: the prefix is 12 hex digits, the secret URL-safe base64. Anything
# else is refused before a query: a NUL byte in a header would otherwise reach PostgreSQL, which
# refuses it with a server error.
SHAPE = re.compile(r"\A" + PREFIX + r"_([0-9a-f]{12})_[A-Za-z0-9_\-]{1,100}\Z")


def _parse(raw: str) -> str | None:
    found = SHAPE.match(raw)
    return found.group(1) if found else None


def token_authenticate(*, raw: str, now: datetime) -> AccessToken | Refused:
    """The live token this secret proves, its person loaded afresh; or why not. A refusal of a
    token that exists is audited against its person (once per window); a secret that matches no
    token is only logged, as there is nobody to audit it against."""
    raw = raw.strip()  # the digest is of the token as made: a pasted newline is not part of it
    prefix = _parse(raw)
    if prefix is None:
        return Refused("malformed", _("That is not a CivicMark access token."))
    token = AccessToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None:
        log.warning("api token refused: unknown prefix %s", prefix)
        return Refused("unknown", _("That token is not known."))
    refused = _refusal(token, raw, now)
    if refused is not None:
        _audit_refusal(token, refused, via="api")
        return refused
    if token.last_used_at is None or now - token.last_used_at >= USED_GRANULARITY:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _refusal(token: AccessToken, raw: str, now: datetime) -> Refused | None:
    if not hmac.compare_digest(token.digest, digest_of(raw)):
        return Refused("wrong", _("That token is not known."))
    if token.revoked_at is not None:
        return Refused("revoked", _("This token was revoked."))
    if token.expires_at <= now:
        return Refused("expired", _("This token has expired: make a new one."))
    if not token.user.is_active:
        return Refused("inactive", _("The account of this token is closed."))
    if twofactor.otp_required() and twofactor.is_privileged(token.user) and not token.second_factor:
        # Made before he held a privileged role (or before the second factor was required): the
        # token stands for no session that passed both factors, and must not reach that far.
        return Refused(
            "second_factor",
            _(
                "This token was made without your second factor, which your role now needs: "
                "make a new one after confirming it."
            ),
        )
    return None


def scope_refusal(token: AccessToken) -> Refused | None:
    """Why this token may not write, or None. A write token of a person who has since become a
    read-only viewer writes no more either."""
    if token.scope != TokenScope.WRITE:
        return Refused("scope", _("This token is read-only: make a read and write token."))
    if not may_write(token.user):
        return Refused("scope", _("A leading-group member's token is read-only."))
    return None


def refuse_write(token: AccessToken, refused: Refused) -> None:
    """Audit a write refused by the token's scope (the caller answers 403)."""
    _audit_refusal(token, refused, via="api")


def _audit_refusal(token: AccessToken, refused: Refused, *, via: str) -> None:
    key = f"token-refused:{token.pk}:{refused.reason}"
    if not cache.add(key, 1, REFUSAL_WINDOW_SECONDS):
        return
    with transaction.atomic():
        audit.record(
            actor=token.user,
            via=via,
            action="token.refused",
            object_type="token",
            object_ref=str(token.public_id),
            scope_path=_scope_path(token.user),
            summary=f"{token.name}: {refused.reason}",
            after={"reason": refused.reason, "prefix": token.prefix},
        )
