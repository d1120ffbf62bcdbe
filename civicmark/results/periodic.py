"""The results app's periodic jobs (core.periodic; run by `civicmark tick`, ADR 23)."""

from __future__ import annotations

from datetime import datetime

from civicmark.campaigns.models import Campaign
from civicmark.core.periodic import periodic
from civicmark.results import snapshots


@periodic("results.stalled_exports")
def stalled_exports(now: datetime) -> dict[str, int]:
    """Long exports lost on the way (an enqueue after a crash, a worker that died) run again;
    see results.jobs.retry_stalled."""
    from civicmark.results.jobs import retry_stalled

    return retry_stalled(now)


@periodic("results.figures")
def refresh_behind_figures(now: datetime) -> list[str]:
    """Take again every campaign's figures snapshot that is behind (ADR 29): a write since it was
    taken whose page nobody opened, a new day, or a refresh that was lost. Idempotent: a snapshot
    that is current is left alone."""
    taken = []
    for campaign in Campaign.objects.select_related("division").order_by("pk"):
        snapshot = snapshots.read(campaign)
        if snapshot is None or snapshots.behind(campaign, snapshot, now):
            snapshots.take(campaign, now)
            taken.append(campaign.slug)
    return taken
