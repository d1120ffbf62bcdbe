"""A community's result in one round, with every lost point and every veto explained.

The headline (total, subtotals, outcome, level, commendable, gates, vetoes) is the stored result,
as every reader reads it; the items are the one community's detail (`scoring.reader.detail`),
shown only here. Vetoes are told as found, standing or lifted (`scoring.vetoes`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.scoring import reader
from civicmark.scoring.models import CommunityResult, Score, Settlement
from civicmark.scoring.rounds import earlier as earlier_round
from civicmark.scoring.rounds import item_values
from civicmark.scoring.rules import Result
from civicmark.scoring.vetoes import VetoStatus, statuses


@dataclass
class LostItem:
    item: Any
    awarded: Decimal
    lost: Decimal
    scores: list[Score] = field(default_factory=list)
    # The value the round's lead settled, or an appeal's reviewer decided, over the scores.
    settled: Settlement | None = None


@dataclass
class Compared:
    """One item in a round that carries over from an earlier one."""

    item: Any
    before: Decimal | None
    after: Decimal | None
    rescored: bool

    @property
    def change(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass
class Veto:
    """A veto of the community as this round sees it: found here, standing (found in an earlier
    round) or lifted (with who, when and why)."""

    veto: Any  # the standard's VetoItem
    status: VetoStatus

    @property
    def state(self) -> str:
        return str(self.status.state)


@dataclass
class Gate:
    item: Any
    effect: str


@dataclass
class Explained:
    result: CommunityResult  # the stored result: what every reader shows
    detail: Result  # the item detail of this one community
    categories: list[dict[str, Any]]
    lost: list[LostItem]
    vetoes: list[Veto]
    not_applicable: list[Score]
    earlier: AcceptanceRound | None = None
    comparison: list[Compared] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)

    @property
    def standing_vetoes(self) -> list[Veto]:
        return [v for v in self.vetoes if v.status.stands]


def compare(round_: AcceptanceRound, enrollment: Enrollment) -> tuple[Any, list[Compared]]:
    """The round it carries from and, item by item, what each round gave (two aggregate queries
    per round, for this community only)."""
    earlier = earlier_round(round_)
    if earlier is None:
        return None, []
    old, _old_na = item_values(earlier, enrollment.pk)
    new, new_na = item_values(round_, enrollment.pk)
    rows = []
    for item in round_.campaign.standard.items.select_related("category").order_by("order"):
        key = (enrollment.pk, item.pk)
        rescored = key in new or key in new_na
        rows.append(Compared(item, old.get(key), new.get(key, old.get(key)), rescored))
    return earlier, rows


def veto_states(round_: AcceptanceRound, enrollment: Enrollment) -> list[Veto]:
    """Every veto ever found for the community up to this round, with its state in this round."""
    found = statuses(round_, [enrollment.pk]).get(enrollment.pk, [])
    items = {v.pk: v for v in round_.campaign.standard.vetoes.all()}
    return [Veto(items.get(s.veto_id), s) for s in found]


def explain(round_: AcceptanceRound, enrollment: Enrollment) -> Explained:
    stored = reader.stored(round_, [enrollment.pk]).get()
    detail = reader.detail(round_, enrollment)
    standard = round_.campaign.standard
    items = {i.code: i for i in standard.items.select_related("category", "department")}
    scores = defaultdict(list)
    for s in Score.objects.filter(round=round_, enrollment=enrollment).select_related(
        "assessor", "item"
    ):
        scores[s.item.code].append(s)
    earlier, comparison = compare(round_, enrollment)
    if earlier is not None:
        # An item this round did not re-score is explained by what the earlier round found.
        for s in Score.objects.filter(round=earlier, enrollment=enrollment).select_related(
            "assessor", "item", "round"
        ):
            if s.item.code not in scores or scores[s.item.code][0].round_id == earlier.pk:
                scores.setdefault(s.item.code, []).append(s)
    settled = {
        t.item_id: t
        for t in Settlement.objects.filter(round=round_, enrollment=enrollment).select_related(
            "settled_by"
        )
    }
    lost = [
        LostItem(
            items[code],
            items[code].points - amount,
            amount,
            scores[code],
            settled.get(items[code].pk),
        )
        for code, amount in detail.lost
    ]
    subtotals = stored.subtotals or {}
    categories = [
        {
            "category": c,
            "subtotal": Decimal(subtotals.get(c.code, "0")),
            "below_minimum": c.code in (stored.below_minimum or []),
        }
        for c in standard.categories.all()
    ]
    gates = [Gate(items.get(g["item"], g["item"]), g["effect"]) for g in stored.gates or []]
    not_applicable = [s for group in scores.values() for s in group if s.not_applicable]
    return Explained(
        stored,
        detail,
        categories,
        lost,
        veto_states(round_, enrollment),
        not_applicable,
        earlier,
        comparison,
        gates,
    )
