"""Who settles a disagreement (ADR 17): the workflow's answer, handed to
`scoring.disagreements.settle` as its access object, as `access.ACCESS` is to the writer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import panels, sealing
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound
from civicmark.scoring import disagreements
from civicmark.scoring.models import Settlement


class SettleAccess:
    def refusal(self, actor: Any, round_: Any, enrollment: Any) -> str | None:
        """Only the round's lead settles, or in a round split into county parts the lead of
        the community's county's part; nobody leads (so settles) over his own community."""
        county = None
        if not authz.can_lead_round(actor, round_):
            path = parts.county_path(enrollment.community.path) if parts.is_split(round_) else None
            county = next((c for c in parts.counties(round_) if c.path == path), None)
            if county is None or not authz.can_lead_round(actor, round_, county=county):
                return _("Only the round's lead settles what its assessors disagree on.")
        return panels.lead_refusal(actor, round_, county)

    def hold(self, round_: Any) -> None:
        """The sign-off lock, then the round as it stands now (for `sealed` in this write)."""
        sealing.hold_for_writing(round_)
        round_.__dict__["_fresh_for_settling"] = AcceptanceRound.objects.select_related(
            "campaign__division"
        ).get(pk=round_.pk)

    def sealed(self, round_: Any, enrollment: Any) -> bool:
        fresh = round_.__dict__.pop("_fresh_for_settling", round_)
        return bool(panels.round_sealed_for(fresh, enrollment.community))


SETTLE_ACCESS = SettleAccess()


def settle(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Any,
    item: Any,
    points: Decimal | None,
    not_applicable: bool = False,
    reason: str = "",
    via: str = "web",
) -> Settlement:
    """`scoring.disagreements.settle` with the workflow's access: what the page and the command
    line call."""
    return disagreements.settle(
        actor=actor,
        round_=round_,
        enrollment=enrollment,
        item=item,
        points=points,
        not_applicable=not_applicable,
        reason=reason,
        access=SETTLE_ACCESS,
        via=via,
    )
