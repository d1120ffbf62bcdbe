"""The numbers behind the dashboards, each as a chart (an ECharts option) and the same numbers as
a table (for screen readers, for print and for the CSV download).

Every function reads a fixed number of aggregate queries whatever the number of communities, and
sees only what the viewer may see (the authorization layer scopes every query).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, IntegerField, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Floor
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.models import (
    Rectification,
    RectificationStatus,
    overdue_rectifications_q,
)
from civicmark.campaigns import selectors
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.results.summary import OUTCOME_LABELS, OUTCOME_ORDER, results_for
from civicmark.scoring.rules import Outcome

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
    # When the chart shows only the first of many rows: what it says, and every row for the CSV.
    note: str = ""
    all_rows: list[list[Any]] | None = None

    def csv_rows(self) -> list[list[Any]]:
        rows = self.all_rows if self.all_rows is not None else self.rows
        return [[str(v) if isinstance(v, Decimal) else v for v in row] for row in rows]


SHOWN = 30  # a chart with more bars than this shows those with the most overdue work


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


def progress_charts(
    user: Any, campaign: Campaign, today: date, *, full: bool = False
) -> list[Chart]:
    """Work steps, towns and communities by task state. A province has 10,000 communities: the
    page asks the database for the SHOWN with the most overdue tasks and their number; only the
    CSV (`full`) reads them all."""
    phases = selectors.progress_by_phase(user, campaign, today)
    towns = selectors.progress_by_town(user, campaign, today)
    per_community = (
        selectors.visible_tasks(user, campaign)
        .filter(division__level="community")
        .order_by()
        .values_list("division__name")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status="done")),
            overdue=Count("id", filter=selectors.overdue_q(today)),
        )
    )
    if full:
        found = list(per_community.values_list("division__name", "total", "done", "overdue"))
        counted = len(found)
    else:
        found = list(
            per_community.annotate(waiting=F("total") - F("done") - F("overdue"))
            .order_by("-overdue", "-waiting", "division__name")
            .values_list("division__name", "total", "done", "overdue")[:SHOWN]
        )
        counted = (
            selectors.visible_tasks(user, campaign)
            .filter(division__level="community")
            .values("division")
            .distinct()
            .count()
        )  # asked every time: the page makes the same queries for 10 communities or 10,000
    communities = [
        {"name": name, "total": total, "done": done_n, "overdue": late}
        for name, total, done_n, late in found
    ]
    # "due" read as 截止 (the deadline) in Chinese: the bar is the work still open and on time.
    done, due, overdue = _("done"), _("open, not yet due"), _("overdue")
    header = [_("unit"), _("tasks"), done, due, overdue]

    def chart(
        key: str, title: str, labels: list[str], data: list[dict[str, Any]], total: int = 0
    ) -> Chart:
        rows = [
            [label, d["total"], d["done"], d["total"] - d["done"] - d["overdue"], d["overdue"]]
            for label, d in zip(labels, data, strict=True)
        ]
        every = rows
        note = ""
        total = max(total, len(rows))
        if total > SHOWN:
            rows = sorted(rows, key=lambda r: (-r[4], -r[3], r[0]))[:SHOWN]
            note = _("The %(shown)d of %(total)d with the most overdue tasks; the CSV has all.") % {
                "shown": SHOWN,
                "total": total,
            }
        option = _bars(
            [r[0] for r in rows],
            [
                (done, [r[2] for r in rows], "#198754"),
                (due, [r[3] for r in rows], "#0d6efd"),
                (overdue, [r[4] for r in rows], "#dc3545"),
            ],
            horizontal=len(rows) > 8,
        )
        return Chart(
            key,
            title,
            header,
            rows,
            option,
            height=max(320, 22 * len(rows) + 80),
            note=note,
            all_rows=every if note else None,
        )

    return [
        chart("phases", _("Work steps"), [str(p["phase"].name) for p in phases], phases),
        chart("towns", _("Tasks per town"), [t["town"].name for t in towns], towns),
        chart(
            "communities",
            _("Tasks per community"),
            [c["name"] for c in communities],
            communities,
            counted,
        ),
    ]


# --- Acceptance -----------------------------------------------------------------------------


def acceptance_charts(rounds: list[AcceptanceRound], user: Any) -> list[Chart]:
    """Communities per outcome and round, per county when the viewer sees several, else per
    town: two aggregate queries for all the rounds together."""
    from civicmark.scoring.materialize import current
    from civicmark.scoring.models import CommunityResult

    if not rounds:
        return []
    for r in rounds:
        current(r)
    coverage = Q(pk__in=[])
    for r in rounds:
        coverage |= Q(round=r) & panels.covered_results_q(r)
    results = CommunityResult.objects.filter(
        authz.within_scope(user, "enrollment__community__path"), coverage
    )
    # Counted per town (one join fewer than per county), then folded into counties through the
    # division table, which is small: at 10,000 communities this halves the chart's cost.
    per_town = list(
        results.order_by()
        .values_list("round", "enrollment__community__parent", "outcome")
        .annotate(n=Count("id"))
    )
    from civicmark.divisions.models import Division

    towns = {
        pk: (name, parent_id, parent_name)
        for pk, name, parent_id, parent_name in Division.objects.filter(
            pk__in={t for _r, t, _o, _n in per_town}
        ).values_list("pk", "name", "parent", "parent__name")
    }
    by_county = len({towns[t][1] for _r, t, _o, _n in per_town if t in towns}) > 1
    label = _("county") if by_county else _("town")
    counts: dict[int, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for round_id, town, outcome, n in per_town:
        name, _parent, county = towns.get(town, ("", None, ""))
        counts[round_id][(county if by_county else name) or ""][outcome] += n
    return [_acceptance_chart(r, label, counts[r.pk]) for r in rounds]


def acceptance_chart(round_: AcceptanceRound, user: Any) -> Chart:
    return acceptance_charts([round_], user)[0]


def _acceptance_chart(
    round_: AcceptanceRound, label: str, counts: dict[str, Counter[str]]
) -> Chart:
    groups = sorted(counts)
    header = [label, *[str(OUTCOME_LABELS[o]) for o in OUTCOME_ORDER], _("communities")]
    table: list[list[Any]] = [
        [g, *[counts[g][o.value] for o in OUTCOME_ORDER], sum(counts[g].values())] for g in groups
    ]
    shown, note = table, ""
    if len(table) > SHOWN:
        shown = sorted(table, key=lambda t: (-t[-1], t[0]))[:SHOWN]
        note = _("The %(shown)d largest of %(total)d; the CSV has all.") % {
            "shown": SHOWN,
            "total": len(table),
        }
    option = _bars(
        [t[0] for t in shown],
        [
            (str(OUTCOME_LABELS[o]), [t[1 + i] for t in shown], OUTCOME_COLOURS[o])
            for i, o in enumerate(OUTCOME_ORDER)
        ],
        horizontal=len(shown) > 8,
    )
    return Chart(
        f"acceptance-{round_.number}",
        round_.name,
        header,
        shown,
        option,
        height=max(320, 22 * len(shown) + 80),
        note=note,
        all_rows=table if note else None,
    )


@dataclass(frozen=True)
class Bins:
    """Five-point bins laid so that the standard's pass mark is an edge (issue 16: the line sat
    in the middle of a bar): with a pass mark of 80 they are …, 75–80, 80–85, …; with 78.5 they
    are …, 73.5–78.5, 78.5–83.5, …. A bin holds the totals from its lower edge up to, not
    including, its upper edge; the last one ends at the standard's maximum and holds it."""

    threshold: Decimal
    top: Decimal
    width: Decimal = Decimal(5)

    @classmethod
    def of(cls, campaign: Campaign) -> Bins:
        standard = campaign.standard
        return cls(Decimal(standard.pass_threshold), Decimal(standard.total_points))

    @property
    def offset(self) -> Decimal:
        return self.threshold % self.width

    @property
    def last(self) -> int:
        return math.ceil((self.top - self.offset) / self.width) - 1

    def index(self, total: Decimal) -> int:
        return math.floor((total - self.offset) / self.width)

    def edge(self, k: int) -> Decimal:
        return self.offset + k * self.width

    def shown(self, *counts: Counter[int]) -> list[int]:
        """From the lowest bin with a result (or ten points under the pass mark, or 60) up."""
        low = min(
            [k for c in counts for k in c]
            + [self.index(self.threshold) - 2, self.index(min(Decimal(60), self.threshold))]
        )
        return list(range(max(low, self.index(Decimal(0))), self.last + 1))

    def label(self, k: int) -> str:
        return f"{_edge(max(self.edge(k), Decimal(0)))}–{_edge(min(self.edge(k + 1), self.top))}"


def _edge(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _bands(round_: AcceptanceRound, user: Any, bins: Bins) -> Counter[int]:
    """Complete results per bin, counted by the database (once per round and request)."""
    memo = round_.__dict__.setdefault("_bands", {})
    key = (getattr(user, "pk", None), bins)
    if key not in memo:
        memo[key] = _count_bands(round_, user, bins)
    return Counter(memo[key])


def _count_bands(round_: AcceptanceRound, user: Any, bins: Bins) -> Counter[int]:
    rows = (
        results_for(round_, user)
        .exclude(outcome=Outcome.INCOMPLETE)
        .annotate(band=Floor((F("total") - bins.offset) / bins.width))
        .order_by()
        .values_list("band")
        .annotate(n=Count("id"))
    )
    found: Counter[int] = Counter()
    for band, n in rows:
        found[min(int(band), bins.last)] += n
    return found


def _histogram(
    bins: Bins, shown: list[int], series: list[tuple[str, list[int], str]]
) -> dict[str, Any]:
    """Bars on a value axis, each over its bin, so that the pass-mark line drawn at its value
    falls on the edge between two bars (on a category axis ECharts rounds a line's position to
    the nearest bar's middle)."""
    edges = [max(bins.edge(k), Decimal(0)) for k in shown] + [bins.top]
    right = max(bins.top, bins.edge(shown[-1] + 1))  # a last bin narrower than five is drawn whole
    centres = [float(bins.edge(k) + bins.width / 2) for k in shown]
    labels = [bins.label(k) for k in shown]
    return {
        "tooltip": {"trigger": "item"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 48, "containLabel": True},
        "xAxis": {
            "type": "value",
            "min": float(edges[0]),
            "max": float(right),
            "axisTick": {"customValues": [float(e) for e in edges]},
            "axisLabel": {"customValues": [float(e) for e in edges]},
            "splitLine": {"show": False},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": [
                    [c, n, label] for c, n, label in zip(centres, counts, labels, strict=True)
                ],
                "encode": {"x": 0, "y": 1, "itemName": 2, "tooltip": [1]},
                "barCategoryGap": "6%",
                "itemStyle": {"color": colour},
            }
            for name, counts, colour in series
        ],
    }


def _pass_line(option: dict[str, Any], bins: Bins) -> None:
    """The pass mark as a series of its own (a line with no points and its mark): on a bar
    series ECharts shifts a mark by that series' offset within the bin, so with two rounds side
    by side the line drifted off the edge. It has its own entry in the legend."""
    name = _("pass mark %s") % _edge(bins.threshold)
    option["legend"]["data"] = [s["name"] for s in option["series"]] + [name]
    option["series"].append(
        {
            "name": name,
            "type": "line",
            "data": [],
            "symbol": "none",
            "itemStyle": {"color": "#dc3545"},
            "lineStyle": {"color": "#dc3545", "type": "dashed", "width": 2},
            "markLine": {
                "symbol": "none",
                "silent": True,
                "label": {"show": False},  # the legend names it
                "lineStyle": {"color": "#dc3545", "type": "dashed", "width": 2},
                "data": [{"xAxis": float(bins.threshold)}],
            },
        }
    )


def _bins_note(bins: Bins) -> str:
    return _(
        "Each bar counts the complete results from its lower edge up to, not including, its "
        "upper edge; the dashed line is the standard's pass mark, %s points: a standard unit from "
        "there."
    ) % _edge(bins.threshold)


def distribution_chart(round_: AcceptanceRound, user: Any, bins: Bins | None = None) -> Chart:
    """How many communities scored in each bin (complete results only), the pass mark on the
    edge between two bins."""
    bins = bins or Bins.of(round_.campaign)
    counts = _bands(round_, user, bins)
    shown = bins.shown(counts)
    table: list[list[Any]] = [[bins.label(k), counts.get(k, 0)] for k in shown]
    option = _histogram(
        bins, shown, [(_("communities with a complete result"), [t[1] for t in table], "#0d6efd")]
    )
    _pass_line(option, bins)
    return Chart(
        f"distribution-{round_.number}",
        _("Score distribution: %s") % round_.name,
        [_("points"), _("communities")],
        table,
        option,
        note=_bins_note(bins),
    )


def comparison_chart(first: AcceptanceRound, second: AcceptanceRound, user: Any) -> Chart:
    """One round's distribution against the next, bin by bin."""
    bins = Bins.of(first.campaign)
    before, after = _bands(first, user, bins), _bands(second, user, bins)
    shown = bins.shown(before, after)
    table: list[list[Any]] = [[bins.label(k), before.get(k, 0), after.get(k, 0)] for k in shown]
    option = _histogram(
        bins,
        shown,
        [
            (first.name, [t[1] for t in table], "#adb5bd"),
            (second.name, [t[2] for t in table], "#0d6efd"),
        ],
    )
    _pass_line(option, bins)
    return Chart(
        f"compare-{first.number}-{second.number}",
        _("%(first)s against %(second)s") % {"first": first.name, "second": second.name},
        [_("points"), first.name, second.name],
        table,
        option,
        note=_bins_note(bins),
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
    results = results_for(round_, user)
    rescored = panels.rescore_map(round_)
    to_score: Counter[int] = Counter()
    if rescored is None:
        n = results.count()
        for dept, items in items_by_dept.items():
            to_score[dept] = n * len(items)
    else:
        for pk in results.values_list("enrollment_id", flat=True):
            for dept, items in items_by_dept.items():
                to_score[dept] += len(items & rescored.get(pk, set()))
    # Each stored result counts its scored items per department: one aggregate sums them.
    sums = results.aggregate(
        **{f"d{dept}": Sum(Cast(KT(f"scored__d{dept}"), IntegerField())) for dept in items_by_dept}
    )
    done: Counter[int] = Counter({dept: sums[f"d{dept}"] or 0 for dept in items_by_dept})
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
    overdue = overdue_rectifications_q(today)
    data = list(
        Rectification.objects.filter(
            authz.within_scope(user, "enrollment__community__path"), round__campaign=campaign
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
            (_("open, not yet due"), [t[1] for t in table], "#0d6efd"),
            (_("rectified"), [t[2] for t in table], "#198754"),
            (_("overdue"), [t[3] for t in table], "#dc3545"),
        ],
    )
    return Chart(
        "rectification",
        _("Rectification per town"),
        [_("town"), _("open, not yet due"), _("rectified"), _("overdue")],
        table,
        option,
    )


# --- A community against the campaign -------------------------------------------------------


def radar_chart(round_: AcceptanceRound, user: Any, code: str) -> Chart | None:
    """The community's category subtotals against the average of the round's complete results
    (one aggregate query over the stored results) and the category maxima."""
    from civicmark.scoring.materialize import current
    from civicmark.scoring.models import CommunityResult

    current(round_)
    mine = (
        CommunityResult.objects.filter(round=round_, enrollment__community__code=code)
        .select_related("enrollment__community")
        .first()
    )
    if mine is None:
        return None
    categories = list(round_.campaign.standard.categories.all())
    # The campaign's average, from the campaign's figures snapshot when there is one (ADR 29:
    # it reads every complete result of the round), said to be as of its time.
    from civicmark.results import snapshots

    snapshot = snapshots.read(round_.campaign)
    known = snapshots.round_figures(snapshot, round_).get("averages")
    note = ""
    if known is not None and snapshot is not None and snapshot.taken_at is not None:
        average = [Decimal(known.get(c.code, "0")) for c in categories]
        note = _("campaign average as of %(time)s") % {
            "time": timezone.localtime(snapshot.taken_at).strftime("%Y-%m-%d %H:%M:%S")
        }
    else:
        average = campaign_averages(round_, categories)
    own = [Decimal(mine.subtotals.get(c.code, "0")) for c in categories]
    name = mine.enrollment.community.name
    table = [[f"{c.code} {c.name}", own[i], average[i], c.points] for i, c in enumerate(categories)]
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
                    {"name": name, "value": [float(t[1]) for t in table]},
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
        [_("category"), name, _("campaign average"), _("maximum")],
        table,
        option,
        height=380,
        note=note,
    )


def campaign_averages(round_: AcceptanceRound, categories: list[Any]) -> list[Decimal]:
    """Each category's average subtotal over every complete result of the round (not only the
    ones a viewer may open: the average names no community)."""
    from django.db.models import Avg, DecimalField

    from civicmark.scoring.models import CommunityResult

    averages = (
        CommunityResult.objects.filter(round=round_)
        .exclude(outcome=Outcome.INCOMPLETE)
        .aggregate(
            **{
                f"c{i}": Avg(
                    Cast(KT(f"subtotals__{c.code}"), DecimalField(max_digits=7, decimal_places=2))
                )
                for i, c in enumerate(categories)
            }
        )
    )
    return [
        Decimal(str(averages[f"c{i}"] or 0)).quantize(Decimal("0.01"))
        for i in range(len(categories))
    ]


# --- The page's charts, live or from the snapshot (ADR 29) ------------------------------------


def shared_charts(
    user: Any, campaign: Campaign, rounds: list[AcceptanceRound], today: date, *, full: bool = False
) -> dict[str, list[Chart]]:
    """The charts that do not depend on the round chosen for the score charts."""
    return {
        "progress": progress_charts(user, campaign, today, full=full),
        "acceptance": acceptance_charts(rounds, user),
        "rectification": [rectification_chart(campaign, user, today)],
    }


def score_charts(user: Any, rounds: list[AcceptanceRound], chosen: AcceptanceRound) -> list[Chart]:
    """The chosen round's distribution, against the round before it (the first against the
    next), and its department completion."""
    return [
        distribution_chart(chosen, user),
        *[
            comparison_chart(a, b, user)
            for a, b in zip(rounds, rounds[1:], strict=False)
            if b == chosen or (a == rounds[0] == chosen)
        ],
        department_chart(chosen, user),
    ]
