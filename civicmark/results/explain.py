"""A community's result in one round, with every lost point and every veto explained."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from civicmark.assessments.models import Score, VetoFinding
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.results.rounds import round_results
from civicmark.results.scoring import Result


@dataclass
class LostItem:
    item: Any
    awarded: Decimal
    lost: Decimal
    scores: list[Score] = field(default_factory=list)


@dataclass
class Explained:
    result: Result
    categories: list[dict[str, Any]]
    lost: list[LostItem]
    vetoes: list[VetoFinding]
    not_applicable: list[Score]


def explain(round_: AcceptanceRound, enrollment: Enrollment) -> Explained:
    result = round_results(round_)[enrollment.pk]
    standard = round_.campaign.standard
    items = {i.code: i for i in standard.items.select_related("category", "department")}
    scores = defaultdict(list)
    for s in Score.objects.filter(round=round_, enrollment=enrollment).select_related(
        "assessor", "item"
    ):
        scores[s.item.code].append(s)
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
    not_applicable = [s for group in scores.values() for s in group if s.not_applicable]
    return Explained(result, categories, lost, vetoes, not_applicable)
