"""The notifications' jobs of the clock (core.periodic, ADR 23 and 28)."""

from __future__ import annotations

from datetime import datetime

from civicmark.core.periodic import periodic
from civicmark.notifications.delivery import deliveries_retry_due
from civicmark.notifications.digest import digests_send


@periodic("notifications.digest")
def digest(now: datetime) -> dict[str, int]:
    return digests_send(now)


@periodic("notifications.retries")
def retries(now: datetime) -> dict[str, int]:
    return deliveries_retry_due(now)
