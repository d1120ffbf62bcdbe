"""The official spreadsheets of a round: the summary table and one community's scoring sheet.

Headers are Chinese by default and English on request; numbers are numbers (two decimals), the
header row is frozen, and a `notes` sheet says what the table is and when it was made.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from django.utils import timezone

from civicmark.assessments.models import SelfScore
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core.tabular import write_table
from civicmark.results.summary import Row, category_headers
from civicmark.scoring.models import Score
from civicmark.scoring.rounds import item_values

H = {
    "rank": ("名次", "rank"),
    "code": ("社区代码", "community code"),
    "community": ("社区", "community"),
    "town": ("镇（街道）", "town"),
    "county": ("县（区）", "county"),
    "total": ("总分", "total"),
    "vetoes": ("否决项", "vetoes"),
    "outcome": ("结果", "outcome"),
    "level": ("等级", "level"),
    "item_code": ("项目编号", "item code"),
    "item": ("项目", "item"),
    "category": ("类别", "category"),
    "department": ("责任部门", "department"),
    "max": ("满分", "maximum"),
    "self": ("自评分", "self-score"),
    "combined": ("合成得分", "combined score"),
    "reason": ("扣分理由", "reasons"),
    "campaign": ("创建活动", "campaign"),
    "round": ("验收轮次", "round"),
    "standard": ("标准版本", "standard version"),
    "made": ("生成时间", "generated at"),
    "rows": ("社区数", "communities"),
}

OUTCOME_EN = {
    "standard_unit": "standard unit",
    "not_reached": "not reached",
    "vetoed": "vetoed",
    "incomplete": "incomplete",
}


def h(key: str, chinese: bool) -> str:
    return H[key][0 if chinese else 1]


def ranking_columns(round_: AcceptanceRound, chinese: bool) -> list[str]:
    return [
        h("rank", chinese),
        h("code", chinese),
        h("community", chinese),
        h("town", chinese),
        h("county", chinese),
        h("total", chinese),
        *[f"{c.code} {c.name}" for c in category_headers(round_)],
        h("vetoes", chinese),
        h("outcome", chinese),
        h("level", chinese),
    ]


def ranking_values(row: Row, chinese: bool) -> list[Any]:
    return [
        row.rank,
        row.code,
        row.name,
        row.town,
        row.county,
        row.total,
        *row.subtotals,
        row.vetoes,
        row.outcome_label if chinese else OUTCOME_EN[row.outcome],
        row.level,
    ]


def _notes(round_: AcceptanceRound, chinese: bool, count: int) -> list[tuple[str, Any]]:
    standard = round_.campaign.standard
    return [
        (h("campaign", chinese), round_.campaign.name),
        (h("round", chinese), f"{round_.number} {round_.name}"),
        (h("standard", chinese), f"{standard.name} v{standard.version}"),
        (h("rows", chinese), count),
        (h("made", chinese), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]


def table_bytes(round_: AcceptanceRound, rows: list[Row], *, chinese: bool, fmt: str) -> bytes:
    """The ranking or summary table: exactly the given rows, in their order."""
    header = ranking_columns(round_, chinese)
    buffer = io.BytesIO()
    decimals = {5 + i: "0.00" for i in range(len(header) - 8)}
    write_table(
        buffer,
        header,
        (ranking_values(r, chinese) for r in rows),
        fmt=fmt,
        sheet="summary" if not chinese else "汇总表",
        number_formats=decimals,
        notes=_notes(round_, chinese, len(rows)) if fmt == "xlsx" else (),
    )
    return buffer.getvalue()


def community_sheet(round_: AcceptanceRound, enrollment: Enrollment, *, chinese: bool) -> bytes:
    """Every item with its maximum, the self-score, each assessor's points, the combined score
    and the reasons given."""
    items = list(
        round_.campaign.standard.items.select_related("category", "department").order_by("order")
    )
    own = dict(SelfScore.objects.filter(enrollment=enrollment).values_list("item", "points"))
    by_item: dict[int, dict[str, Any]] = defaultdict(dict)
    reasons: dict[int, list[str]] = defaultdict(list)
    assessors: list[str] = []
    for s in (
        Score.objects.filter(round=round_, enrollment=enrollment)
        .select_related("assessor")
        .order_by("assessor__username")
    ):
        name = s.assessor.full_name or s.assessor.username
        if name not in assessors:
            assessors.append(name)
        by_item[s.item_id][name] = "N/A" if s.not_applicable else s.points
        if s.reason:
            reasons[s.item_id].append(f"{name}: {s.reason}")
    combined, _na = item_values(round_, enrollment.pk)
    header = [
        h("item_code", chinese),
        h("item", chinese),
        h("category", chinese),
        h("department", chinese),
        h("max", chinese),
        h("self", chinese),
        *assessors,
        h("combined", chinese),
        h("reason", chinese),
    ]
    rows = [
        [
            i.code,
            i.title,
            i.category.name,
            i.department.name if i.department_id else "",
            i.points,
            own.get(i.pk),
            *[by_item[i.pk].get(a) for a in assessors],
            combined.get((enrollment.pk, i.pk)),
            "；".join(reasons[i.pk]),
        ]
        for i in items
    ]
    numeric = {4: "0.0", 5: "0.0", **{6 + n: "0.0" for n in range(len(assessors))}}
    numeric[6 + len(assessors)] = "0.00"
    buffer = io.BytesIO()
    write_table(
        buffer,
        header,
        rows,
        fmt="xlsx",
        sheet=enrollment.community.name[:30],
        number_formats=numeric,
        notes=[
            *_notes(round_, chinese, 1),
            (h("community", chinese), f"{enrollment.community.code} {enrollment.community.name}"),
        ],
    )
    return buffer.getvalue()
