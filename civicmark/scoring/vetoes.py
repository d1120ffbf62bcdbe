"""Vetoes that stand (ADR 17).

A department's finding of a veto in a round stands in that round and every later round of the
campaign until the department lifts it, with a reason, in a round that covers the community. Re-
scoring the community's items does not lift it; only a lift does. This module answers, for a
round, which vetoes stand for which communities, and which were lifted: one query per round.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from civicmark.campaigns.models import AcceptanceRound
from civicmark.scoring.models import VetoFinding


class VetoState(StrEnum):
    FOUND = "found"  # found in this very round
    STANDING = "standing"  # found in an earlier round and not lifted since
    LIFTED = "lifted"  # found before, lifted in this round or an earlier one


@dataclass(frozen=True)
class VetoStatus:
    veto_id: int
    code: str
    effect: str  # VetoEffect: "fail" or "cap"
    cap_level: str
    state: VetoState
    found_in_round: int  # the round that found it (the latest finding before any lift)
    # The record behind the state: the finding (found, standing) or the lift (lifted).
    by: str
    at: datetime
    reason: str
    in_round: int  # the round of that record
    lifted_in_round: int | None = None

    @property
    def stands(self) -> bool:
        return self.state != VetoState.LIFTED


def statuses(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None
) -> dict[int, list[VetoStatus]]:
    """enrollment id -> the status of every veto ever found for it up to this round, in the
    standard's order. Within one round a finding outweighs a lift (the writer refuses both)."""
    rows = VetoFinding.objects.filter(
        round__campaign_id=round_.campaign_id, round__number__lte=round_.number
    )
    if enrollment_ids is not None:
        rows = rows.filter(enrollment_id__in=list(enrollment_ids))
    records = rows.order_by("round__number", "lifts", "created_at", "pk").values_list(
        "enrollment_id",
        "veto_id",
        "veto__code",
        "veto__effect",
        "veto__cap_level",
        "veto__order",
        "round__number",
        "lifts",
        "assessor__full_name",
        "assessor__username",
        "created_at",
        "reason",
    )
    # (enrollment, veto) -> (order, status); lifts sort after findings within a round, and a
    # round with a finding keeps it standing whatever lift came with it.
    found: dict[tuple[int, int], tuple[int, VetoStatus]] = {}
    for (
        enrollment,
        veto,
        code,
        effect,
        cap_level,
        order,
        number,
        lifts,
        full_name,
        username,
        at,
        reason,
    ) in records:
        key = (enrollment, veto)
        before = found.get(key)
        by = full_name or username
        if not lifts:
            if before is not None and before[1].stands and before[1].in_round == number:
                continue  # a second assessor's finding in the same round: the first tells it
            first = before[1].found_in_round if before and before[1].stands else number
            state = VetoState.FOUND if number == round_.number else VetoState.STANDING
            found[key] = (
                order,
                VetoStatus(veto, code, effect, cap_level, state, first, by, at, reason, number),
            )
        elif before is not None and before[1].stands and before[1].in_round < number:
            found[key] = (
                order,
                VetoStatus(
                    veto,
                    code,
                    effect,
                    cap_level,
                    VetoState.LIFTED,
                    before[1].found_in_round,
                    by,
                    at,
                    reason,
                    number,
                    lifted_in_round=number,
                ),
            )
    out: dict[int, list[VetoStatus]] = {}
    for (enrollment, _veto), (_order, status) in sorted(
        found.items(), key=lambda kv: (kv[0][0], kv[1][0], kv[1][1].code)
    ):
        out.setdefault(enrollment, []).append(status)
    return out


def standing(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None
) -> dict[int, list[VetoStatus]]:
    """enrollment id -> the vetoes that stand for it in this round (found here or before)."""
    return {
        e: kept
        for e, all_ in statuses(round_, enrollment_ids).items()
        if (kept := [s for s in all_ if s.stands])
    }
