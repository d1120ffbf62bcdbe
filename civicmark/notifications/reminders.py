"""Helpers for the jobs that remind people of dates (issue 18 item 3): the window of "due soon"
and which reminders were already written, asked once for a whole scan."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from civicmark.notifications.models import Notification

T = TypeVar("T")


def due_soon(now: datetime) -> tuple[date, date]:
    """(today, the last day that counts as due soon): work due in this window is announced."""
    today = timezone.localdate(now)
    return today, today + timedelta(days=int(settings.CIVICMARK_DUE_SOON_DAYS))


def told(keys: Iterable[str]) -> set[tuple[int, str]]:
    """(recipient id, key) of the notifications already written under these keys: a scan that
    runs every few minutes asks once, not once per person and object."""
    keys = list(dict.fromkeys(keys))
    found: set[tuple[int, str]] = set()
    for start in range(0, len(keys), 500):
        found.update(
            Notification.objects.filter(key__in=keys[start : start + 500]).values_list(
                "recipient_id", "key"
            )
        )
    return found


def announce_each(
    found: Sequence[T],
    owners: Callable[[T], list[Any]],
    key_of: Callable[[T], str],
    announce: Callable[[T, list[Any], str], list[object]],
) -> int:
    """Tell each object's owners under its key, skipping who was told already; the number of
    notifications written. The one loop of every "due soon" scan (tasks, rectifications)."""
    keys = {id(obj): key_of(obj) for obj in found}
    already = told(keys.values())
    written = 0
    for obj in found:
        people = [p for p in owners(obj) if (p.pk, keys[id(obj)]) not in already]
        if people:
            written += len(announce(obj, people, keys[id(obj)]))
    return written
