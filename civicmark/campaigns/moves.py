"""A division with communities in a campaign stays under the division that runs the campaign
(`divisions.moves`): whole-campaign figures and pages count every enrolled community as inside
the campaign's division (ADR 29, ADR 30), so a town moved out from under it would stay in sight
of the office it left."""

from __future__ import annotations

from django.utils.translation import gettext as _

from civicmark.campaigns.models import Campaign
from civicmark.divisions.moves import refuses_move


@refuses_move
def campaigns_outside(old_path: str, new_path: str) -> list[str]:
    campaigns = (
        Campaign.objects.filter(enrollments__community__path__startswith=old_path)
        .select_related("division")
        .distinct()
        .order_by("id")
    )
    return [
        _(
            "It has communities in the campaign “%(campaign)s”, run by %(office)s: it may move "
            "only within %(office)s."
        )
        % {"campaign": c.name, "office": c.division.name}
        for c in campaigns
        if not new_path.startswith(c.division.path)
    ]
