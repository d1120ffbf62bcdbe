"""A community's result in one round, with every lost point and every veto explained."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.scoring.models import Score, VetoFinding
from civicmark.scoring.rounds import item_values, round_results
from civicmark.scoring.rules import Outcome, Result


@dataclass
class LostItem:
    item: Any
    awarded: Decimal
    lost: Decimal
    scores: list[Score] = field(default_factory=list)


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
class Explained:
    result: Result
    categories: list[dict[str, Any]]
    lost: list[LostItem]
    vetoes: list[VetoFinding]
    not_applicable: list[Score]
    earlier: AcceptanceRound | None = None
    comparison: list[Compared] = field(default_factory=list)


def compare(round_: AcceptanceRound, enrollment: Enrollment) -> tuple[Any, list[Compared]]:
    """The round it carries from and, item by item, what each round gave (two aggregate queries
    per round, for this community only)."""
    if not round_.carries_from:
        return None, []
    earlier = round_.campaign.rounds.filter(number=round_.carries_from).first()
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


def explain(round_: AcceptanceRound, enrollment: Enrollment) -> Explained:
    result = round_results(round_, enrollments=[enrollment.pk])[enrollment.pk]
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
    lost = [
        LostItem(items[code], items[code].points - amount, amount, scores[code])
        for code, amount in result.lost
    ]
    categories = [
        {
            "category": c,
            "subtotal": result.category_subtotals.get(c.code, Decimal(0)),
            "below_minimum": c.code in result.categories_below_minimum,
        }
        for c in standard.categories.all()
    ]
    vetoes = list(
        VetoFinding.objects.filter(round=round_, enrollment=enrollment).select_related(
            "veto", "assessor"
        )
    )
    if earlier is not None and not vetoes and result.outcome == Outcome.VETOED:
        # Not reassessed yet: the earlier round's findings still stand.
        vetoes = list(
            VetoFinding.objects.filter(round=earlier, enrollment=enrollment).select_related(
                "veto", "assessor"
            )
        )
    not_applicable = [s for group in scores.values() for s in group if s.not_applicable]
    return Explained(result, categories, lost, vetoes, not_applicable, earlier, comparison)
