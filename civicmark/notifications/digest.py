"""The daily digest (ADR 28): once a day, after `CIVICMARK_DIGEST_HOUR`, one email and one webhook
message per person who asked for a digest on that channel, listing what he has not read yet and
was not already sent on it.

Idempotent: the day's digest is a delivery keyed "digest:<date>" (one per person, channel and day,
by a unique constraint), and every notification it carries is linked to it, so a second run the
same day sends nothing and tomorrow's does not repeat today's. What he read in the inbox is left
out (he has seen it), and so is anything older than a week (a person who turns the digest on is
not sent the year gone by).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from civicmark.notifications import messages
from civicmark.notifications.delivery import (
    delivery_open,
    enqueue,
    preferences_of,
    reachable,
)
from civicmark.notifications.models import Channel, Delivery, Frequency, Notification

WINDOW = timedelta(days=7)


def digests_send(now: datetime) -> dict[str, int]:
    """Opens (and enqueues) today's digests that are due; returns how many per channel."""
    local = timezone.localtime(now)
    if local.hour < settings.CIVICMARK_DIGEST_HOUR:
        return {}
    key = f"digest:{local.date().isoformat()}"
    return {channel: _digests(channel, key, now) for channel in Channel.values}


def _digests(channel: str, key: str, now: datetime) -> int:
    already = Delivery.objects.filter(channel=channel, key=key)
    waiting = (
        Notification.objects.filter(
            read_at=None,
            created_at__gt=now - WINDOW,
            created_at__lte=now,
            recipient__is_active=True,
        )
        .exclude(deliveries__channel=channel)  # sent on this channel already (at once or digested)
        .exclude(recipient_id__in=already.values("recipient_id"))  # had today's digest
        .select_related("recipient")
        .order_by("recipient_id", "created_at", "pk")
    )
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for n in waiting:
        by_person[n.recipient_id].append(n)
    preferences = preferences_of(items[0].recipient for items in by_person.values())
    sent = 0
    for pk, items in by_person.items():
        preference, person = preferences[pk], items[0].recipient
        if preference.frequency(channel) != Frequency.DIGEST or not reachable(person, channel):
            continue
        subject, text = messages.digest(items, preference.language)
        delivery = delivery_open(
            recipient=person,
            channel=channel,
            key=key,
            notifications=items,
            subject=subject,
            text=text,
        )
        if delivery is not None:
            enqueue(delivery.pk)
            sent += 1
    return sent
