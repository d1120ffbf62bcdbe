"""The one way anything tells a person something (ADR 23), and a person's own writes on what he
was told: marking it read, choosing his channels (ADR 28)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from civicmark.accounts.models import User
from civicmark.core import audit
from civicmark.core.errors import NotAllowed
from civicmark.notifications.models import Event, Notification, Preference

# Channels beyond the inbox (email, webhook) register here; each is called after the commit with
# the notifications just written.
Dispatcher = Callable[[list[Notification]], None]
DISPATCHERS: list[Dispatcher] = []


def notify(
    recipients: Iterable[object],
    *,
    event: Event | str,
    key: str,
    title: Callable[[], str] | str,
    body: Callable[[], str] | str = "",
    link: str = "",
    scope_path: str = "",
) -> list[Notification]:
    """Writes one inbox entry per recipient (skipping one whose `key` he already has) and hands
    the new ones to the channels once the transaction commits. `title` and `body` may be
    callables, rendered in each recipient's language."""
    people = {p.pk: p for p in recipients if isinstance(p, User) and p.is_active}
    if not people:
        return []
    already = set(
        Notification.objects.filter(recipient__in=list(people), key=key).values_list(
            "recipient_id", flat=True
        )
    )
    languages = languages_of(pk for pk in people if pk not in already)
    written: list[Notification] = []
    for pk, person in people.items():
        if pk in already:
            continue
        with translation.override(languages[pk]):
            text = title() if callable(title) else str(title)
            details = body() if callable(body) else str(body)
        try:
            with transaction.atomic():
                written.append(
                    Notification.objects.create(
                        recipient=person,
                        event=str(event),
                        key=key[:200],
                        title=text[:200],
                        body=details,
                        link=link[:300],
                        scope_path=scope_path,
                    )
                )
        except IntegrityError:  # written meanwhile by another run of the same job
            continue
    for dispatch in DISPATCHERS if written else []:
        # Each channel on its own: an email server that is down neither undoes the change that
        # was committed nor keeps the webhook from being told (robust: logged, not raised).
        transaction.on_commit(lambda d=dispatch: d(written), robust=True)  # type: ignore[misc]
    return written


def languages_of(pks: Iterable[int]) -> dict[int, str]:
    """Each person's language of messages (his preference, else the site's), in one query."""
    wanted = list(pks)
    chosen = dict(Preference.objects.filter(user_id__in=wanted).values_list("user_id", "language"))
    return {pk: chosen.get(pk) or settings.LANGUAGE_CODE for pk in wanted}


# --- the person's own inbox ----------------------------------------------------------------------


def notification_mark_read(*, actor: User, notification: Notification, now: datetime) -> bool:
    """Marks one of the actor's own notifications read; False when it was read already. Reading
    is recorded: an escalation may ask whether the owner was told and looked."""
    if notification.recipient_id != actor.pk:
        raise NotAllowed(_("This notification is not yours."))
    with transaction.atomic():
        changed = Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=now)
        if changed:
            audit.record(
                actor=actor,
                action="notification.read",
                object_type="notification",
                object_ref=str(notification.public_id),
                scope_path=notification.scope_path,
                summary=notification.title,
            )
    notification.read_at = notification.read_at or now
    return bool(changed)


def notifications_mark_all_read(*, actor: User, now: datetime) -> int:
    """Marks every unread notification of the actor read, in one statement; returns how many."""
    with transaction.atomic():
        changed = Notification.objects.filter(recipient=actor, read_at=None).update(read_at=now)
        if changed:
            audit.record(
                actor=actor,
                action="notifications.read_all",
                object_type="user",
                object_ref=actor.username,
                after={"count": changed},
            )
    return changed


def preference_set(
    *, actor: User, email: str, webhook: str, mobile: str, language: str
) -> Preference:
    """Saves the actor's own choice of channels (the inbox is always on)."""
    with transaction.atomic():
        preference, _created = Preference.objects.select_for_update().get_or_create(user=actor)
        before = _choices(preference)
        preference.email, preference.webhook = email, webhook
        preference.mobile, preference.language = mobile, language
        preference.full_clean()
        preference.save()
        after = _choices(preference)
        if before != after or _created:
            audit.record(
                actor=actor,
                action="notifications.preferences_set",
                object_type="user",
                object_ref=actor.username,
                before=before,
                after=after,
            )
    return preference


def _choices(preference: Preference) -> dict[str, str]:
    # The number itself stays out of the audit trail: only whether there is one.
    return {
        "email": preference.email,
        "webhook": preference.webhook,
        "mobile": "yes" if preference.mobile else "",
        "language": preference.language,
    }
