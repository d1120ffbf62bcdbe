"""The one way anything tells a person something (ADR 23)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import translation

from civicmark.notifications.models import Event, Notification

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
    User = get_user_model()  # noqa: N806
    written: list[Notification] = []
    for person in {p.pk: p for p in recipients if isinstance(p, User) and p.is_active}.values():
        if Notification.objects.filter(recipient=person, key=key).exists():
            continue
        with translation.override(_language_of(person)):
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
    if written:
        transaction.on_commit(lambda: [dispatch(written) for dispatch in DISPATCHERS])
    return written


def _language_of(person: object) -> str:
    from django.conf import settings

    return str(getattr(person, "language", "") or settings.LANGUAGE_CODE)
