"""What a person may read of notifications: his own, and nobody else's."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from civicmark.notifications.models import Delivery, Notification


def notifications_for_user(*, user: Any) -> QuerySet[Notification]:
    """The person's own notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_for_user_or_404(*, user: Any, public_id: Any) -> Notification:
    """One of his own; another's public id is not found, as if it did not exist."""
    found = notifications_for_user(user=user).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def unread_count(*, user: Any) -> int:
    """One COUNT on the (recipient, read_at) index."""
    return Notification.objects.filter(recipient=user, read_at=None).count()


def delivery_counts_for_user(*, user: Any) -> dict[str, dict[str, int]]:
    """How many of his deliveries each channel sent, is still trying, gave up: {channel: {status:
    n}} for the preference page."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        Delivery.objects.filter(recipient=user)
        .values_list("channel", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for channel, status, n in rows:
        counts.setdefault(channel, {})[status] = n
    return counts


def deliveries_for_user(*, user: Any, limit: int = 10) -> QuerySet[Delivery]:
    return Delivery.objects.filter(recipient=user).order_by("-created_at", "-pk")[:limit]
