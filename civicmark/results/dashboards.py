"""The numbers behind the dashboards, each as a chart (an ECharts option) and the same numbers as
a table (for screen readers, for print and for the CSV download).

Every function reads a fixed number of aggregate queries whatever the number of communities, and
sees only what the viewer may see (the authorization layer scopes every query).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.models import Rectification, RectificationStatus, Score
from civicmark.campaigns import selectors
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.results.scoring import Outcome
from civicmark.results.summary import OUTCOME_LABELS, OUTCOME_ORDER, Row, rows_for

OUTCOME_COLOURS = {
    Outcome.STANDARD: "#198754",
    Outcome.NOT_REACHED: "#dc3545",
    Outcome.VETOED: "#212529",
    Outcome.INCOMPLETE: "#adb5bd",
}


@dataclass
class Chart:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    option: dict[str, Any] = field(default_factory=dict)
    height: int = 320

    def csv_rows(self) -> list[list[Any]]:
        return [[str(v) if isinstance(v, Decimal) else v for v in row] for row in self.rows]


def _num(value: Any) -> Any:
    """ECharts reads JSON numbers; Decimals go over as floats, integers stay integers."""
    return float(value) if isinstance(value, Decimal) else value


def _bars(
    categories: list[str],
    series: list[tuple[str, list[Any], str | None]],
    *,
    stacked: bool = True,
    horizontal: bool = False,
) -> dict[str, Any]:
    axis_cat = {"type": "category", "data": categories, "axisLabel": {"interval": 0}}
    axis_val = {"type": "value", "minInterval": 1}
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": axis_val if horizontal else axis_cat,
        "yAxis": axis_cat if horizontal else axis_val,
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": [_num(v) for v in values],
                **({"stack": "all"} if stacked else {}),
                **({"itemStyle": {"color": colour}} if colour else {}),
            }
            for name, values, colour in series
        ],
    }


# --- Campaign progress ----------------------------------------------------------------------


def progress_charts(user: Any, campaign: Campaign, today: date) -> list[Chart]:
    phases = selectors.progress_by_phase(user, campaign, today)
    towns = selectors.progress_by_town(user, campaign, today)
    communities = selectors.progress_by_community(user, campaign, today)
    done, due, overdue = _("done"), _("due"), _("overdue")
    header = [_("unit"), _("tasks"), done, due, overdue]

    def chart(key: str, title: str, labels: list[str], data: list[dict[str, Any]]) -> Chart:
        rows = [
            [label, d["total"], d["done"], d["total"] - d["done"] - d["overdue"], d["overdue"]]
            for label, d in zip(labels, data, strict=True)
        ]
        option = _bars(
            labels,
            [
                (done, [r[2] for r in rows], "#198754"),
                (due, [r[3] for r in rows], "#0d6efd"),
                (overdue, [r[4] for r in rows], "#dc3545"),
            ],
            horizontal=len(labels) > 8,
        )
        return Chart(key, title, header, rows, option, height=max(320, 22 * len(labels) + 80))

    return [
        chart("phases", _("Work steps"), [str(p["phase"].name) for p in phases], phases),
        chart("towns", _("Tasks per town"), [t["town"].name for t in towns], towns),
        chart(
            "communities",
            _("Tasks per community"),
            [c["community"].name for c in communities],
            communities,
        ),
    ]


# --- Acceptance -----------------------------------------------------------------------------


def _group_of(rows: list[Row]) -> tuple[str, Any]:
    """By county when the viewer sees more than one, else by town."""
    if len({r.county_code for r in rows}) > 1:
        return _("county"), lambda r: r.county
    return _("town"), lambda r: r.town


def acceptance_chart(round_: AcceptanceRound, rows: list[Row]) -> Chart:
    label, group = _group_of(rows)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        counts[group(r)][r.outcome] += 1
    groups = sorted(counts)
    header = [label, *[str(OUTCOME_LABELS[o]) for o in OUTCOME_ORDER], _("communities")]
    table = [
        [g, *[counts[g][o.value] for o in OUTCOME_ORDER], sum(counts[g].values())] for g in groups
    ]
    option = _bars(
        groups,
        [
            (str(OUTCOME_LABELS[o]), [counts[g][o.value] for g in groups], OUTCOME_COLOURS[o])
            for o in OUTCOME_ORDER
        ],
    )
    return Chart(f"acceptance-{round_.number}", round_.name, header, table, option)


def distribution_chart(round_: AcceptanceRound, rows: list[Row], threshold: Decimal) -> Chart:
    """How many communities scored in each five-point band (complete results only), with the
    threshold marked."""
    complete = [r for r in rows if r.outcome != Outcome.INCOMPLETE]
    low = min([int(r.total) // 5 * 5 for r in complete] + [int(threshold) - 10, 60])
    bands = list(range(max(0, low), 100, 5))
    counts = Counter(min(int(r.total) // 5 * 5, 95) for r in complete)
    labels = [f"{b}–{b + 5}" for b in bands]
    table = [[label, counts.get(b, 0)] for label, b in zip(labels, bands, strict=True)]
    position = (float(threshold) - bands[0]) / 5 - 0.5 if bands else 0
    option = _bars(labels, [(_("communities"), [t[1] for t in table], "#0d6efd")])
    option["series"][0]["markLine"] = {
        "symbol": "none",
        "label": {"formatter": _("threshold %s") % threshold},
        "lineStyle": {"color": "#dc3545", "type": "dashed"},
        "data": [{"xAxis": position}],
    }
    return Chart(
        f"distribution-{round_.number}",
        _("Score distribution: %s") % round_.name,
        [_("points"), _("communities")],
        table,
        option,
    )


def comparison_chart(first: AcceptanceRound, second: AcceptanceRound, user: Any) -> Chart:
    """Each community's total in one round against the next (complete results in both)."""
    before = {r.code: r for r in rows_for(first, user)}
    after = {r.code: r for r in rows_for(second, user)}
    both = sorted(
        code
        for code in before.keys() & after.keys()
        if before[code].outcome != Outcome.INCOMPLETE and after[code].outcome != Outcome.INCOMPLETE
    )
    table: list[list[Any]] = [
        [after[c].name, before[c].total, after[c].total, after[c].total - before[c].total]
        for c in both
    ]
    option = {
        "tooltip": {"trigger": "item"},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 24, "containLabel": True},
        "xAxis": {
            "type": "value",
            "name": first.name,
            "nameLocation": "middle",
            "nameGap": 28,
            "min": "dataMin",
            "max": 100,
        },
        "yAxis": {"type": "value", "name": second.name, "min": "dataMin", "max": 100},
        "series": [
            {
                "type": "scatter",
                "symbolSize": 10,
                "data": [[float(t[1]), float(t[2]), t[0]] for t in table],
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"color": "#adb5bd", "type": "dashed"},
                    "data": [[{"coord": [0, 0]}, {"coord": [100, 100]}]],
                },
            }
        ],
    }
    return Chart(
        f"compare-{first.number}-{second.number}",
        _("%(first)s against %(second)s") % {"first": first.name, "second": second.name},
        [_("community"), first.name, second.name, _("change")],
        table,
        option,
    )


# --- Departments and rectification ----------------------------------------------------------


def department_chart(round_: AcceptanceRound, user: Any) -> Chart:
    """Scored items out of items to score, per department: for every covered community the
    viewer sees, the items the round scores (all, or what a carrying round re-scores)."""
    standard = round_.campaign.standard
    items_by_dept: dict[int, set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    for pk, dept, name in standard.items.values_list("pk", "department", "department__name"):
        items_by_dept[dept].add(pk)
        names[dept] = name
    visible = set(
        round_.campaign.enrollments.filter(
            community__in=authz.divisions_for_user(user)
        ).values_list("pk", flat=True)
    )
    covered = [pk for pk in panels.covered_ids(round_) if pk in visible]
    rescored = panels.rescore_map(round_)
    to_score: Counter[int] = Counter()
    for pk in covered:
        for dept, items in items_by_dept.items():
            to_score[dept] += len(items if rescored is None else items & rescored.get(pk, set()))
    done: Counter[int] = Counter()
    for dept, n in (
        Score.objects.filter(round=round_, enrollment__in=covered)
        .values("item__department", "enrollment")
        .annotate(n=Count("item", distinct=True))
        .values_list("item__department", "n")
    ):
        done[dept] += n
    depts = sorted(names, key=lambda d: names[d])
    table: list[list[Any]] = [
        [
            names[d],
            done[d],
            to_score[d],
            round(100 * done[d] / to_score[d]) if to_score[d] else 100,
        ]
        for d in depts
    ]
    option = _bars(
        [t[0] for t in table],
        [
            (_("scored"), [t[1] for t in table], "#198754"),
            (_("still to score"), [max(0, t[2] - t[1]) for t in table], "#ffc107"),
        ],
        horizontal=True,
    )
    return Chart(
        f"departments-{round_.number}",
        _("Department completion: %s") % round_.name,
        [_("department"), _("scored"), _("to score"), "%"],
        table,
        option,
        height=max(320, 30 * len(table) + 80),
    )


def rectification_chart(campaign: Campaign, user: Any, today: date) -> Chart:
    overdue = Q(status=RectificationStatus.OPEN, due_on__lt=today)
    data = list(
        Rectification.objects.filter(
            round__campaign=campaign,
            enrollment__community__in=authz.divisions_for_user(user),
        )
        .values("enrollment__community__parent__name")
        .annotate(
            open=Count("id", filter=Q(status=RectificationStatus.OPEN) & ~overdue),
            done=Count("id", filter=Q(status=RectificationStatus.DONE)),
            overdue=Count("id", filter=overdue),
        )
        .order_by("enrollment__community__parent__path")
    )
    table = [
        [d["enrollment__community__parent__name"], d["open"], d["done"], d["overdue"]] for d in data
    ]
    option = _bars(
        [t[0] for t in table],
        [
            (_("open"), [t[1] for t in table], "#0d6efd"),
            (_("rectified"), [t[2] for t in table], "#198754"),
            (_("overdue"), [t[3] for t in table], "#dc3545"),
        ],
    )
    return Chart(
        "rectification",
        _("Rectification per town"),
        [_("town"), _("open"), _("rectified"), _("overdue")],
        table,
        option,
    )


# --- A community against the campaign -------------------------------------------------------


def radar_chart(round_: AcceptanceRound, user: Any, code: str) -> Chart | None:
    """The community's category subtotals against the average of the round's complete results
    and the category maxima."""
    # The campaign's average is over every complete result of the round, not just the ones the
    # viewer may open; the view has already checked that he may see this community.
    everyone = rows_for(round_, None, covered_only=False)
    mine = next((r for r in everyone if r.code == code), None)
    if mine is None:
        return None
    complete = [r for r in everyone if r.outcome != Outcome.INCOMPLETE]
    categories = list(round_.campaign.standard.categories.all())
    average = [
        (sum((r.subtotals[i] for r in complete), Decimal(0)) / len(complete)).quantize(
            Decimal("0.01")
        )
        if complete
        else Decimal(0)
        for i in range(len(categories))
    ]
    table = [
        [f"{c.code} {c.name}", mine.subtotals[i], average[i], c.points]
        for i, c in enumerate(categories)
    ]
    option = {
        "tooltip": {},
        "legend": {"bottom": 0},
        "radar": {
            "indicator": [{"name": c.code, "max": float(c.points)} for c in categories],
            "radius": "65%",
        },
        "series": [
            {
                "type": "radar",
                "data": [
                    {"name": mine.name, "value": [float(t[1]) for t in table]},
                    {"name": _("campaign average"), "value": [float(t[2]) for t in table]},
                    {
                        "name": _("maximum"),
                        "value": [float(t[3]) for t in table],
                        "lineStyle": {"type": "dashed"},
                    },
                ],
            }
        ],
    }
    return Chart(
        "profile",
        _("Category profile"),
        [_("category"), mine.name, _("campaign average"), _("maximum")],
        table,
        option,
        height=380,
    )
