"""The results app's periodic jobs (core.periodic; run by `civicmark tick`, ADR 23)."""

from __future__ import annotations

from datetime import datetime

from civicmark.core.periodic import periodic


@periodic("results.stalled_exports")
def stalled_exports(now: datetime) -> dict[str, int]:
    """Long exports lost on the way (an enqueue after a crash, a worker that died) run again;
    see results.jobs.retry_stalled."""
    from civicmark.results.jobs import retry_stalled

    return retry_stalled(now)
