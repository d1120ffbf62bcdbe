"""Issue 16, item 10: the leader's view. Key figures on top, legends that say what they mean, the
pass mark on the edge between two bins, ranking columns named by their categories, and ranks
counted over the whole round whoever looks."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone, translation

from civicmark.accounts.models import User
from civicmark.assessments.models import Rectification
from civicmark.results import dashboards, figures
from civicmark.results.dashboards import Bins
from civicmark.scoring import reader
from civicmark.scoring.models import CommunityResult
from civicmark.scoring.rules import Outcome
from civicmark.standards.models import Standard

CHENGGUAN_TOWN = "990121100000"
DONGGUAN = ("东关社区", "站前社区", "朝阳社区", "滨河社区")


def ranks_on(page: str) -> dict[str, str]:
    """Community name -> the rank shown beside it on a ranking page."""
    found = re.findall(
        r'<tr data-code="\d+"><td class="text-end">([^<]*)</td><td[^>]*><a [^>]*>([^<]*)</a>', page
    )
    return {name: rank for rank, name in found}


def test_it_ranks_a_town_officers_communities_in_the_whole_round(demo, client):
    url = reverse("ranking", args=[demo.slug, 2])
    client.force_login(User.objects.get(username="city"))
    city = ranks_on(client.get(url).content.decode())
    client.force_login(User.objects.get(username="town"))
    page = client.get(url).content.decode()
    town = ranks_on(page)
    # 文昌社区 is 2nd in its town and 3rd in the city: the town's officer sees the city's 3.
    assert city["文昌社区"] == "3" and town["文昌社区"] == "3"
    assert town == {name: city[name] for name in town} and set(town) == {
        "解放路社区",
        "和平里社区",
        "文昌社区",
        "新华社区",
    }
    # Only the rank crosses his scope: no other town's community, nor its total.
    dongguan = CommunityResult.objects.get(round__number=2, enrollment__community__name="东关社区")
    assert not any(name in page for name in DONGGUAN)
    assert f">{dongguan.total:.2f}<" not in page
    # His download says the same ranks.
    sheet = client.get(url, {"format": "csv", "headers": "en", "all": "1"})
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert {r["community"]: r["rank"] for r in rows if r["rank"]} == {
        n: r for n, r in town.items() if r != "—"
    }
    # A filter to his own town keeps the city's ranks too.
    filtered = ranks_on(client.get(url, {"town": CHENGGUAN_TOWN}).content.decode())
    assert filtered["文昌社区"] == "3"


def test_it_names_each_ranking_column_by_its_category(demo, client):
    client.force_login(User.objects.get(username="town"))
    page = client.get(reverse("ranking", args=[demo.slug, 2])).content.decode()
    header = page.split('data-testid="ranking"')[1].split("</thead>")[0]
    heads = re.findall(r'data-category="(\w+)"><span class="d-block">([^<]*)</span>', header)
    assert heads == [(c.code, f"{c.code} {c.name}") for c in demo.standard.categories.all()]
    # The names are the header's text, not a tooltip only; the table scrolls inside its box.
    assert 'title="组织建设"' not in header
    assert '<div class="table-responsive ranking-scroll">' in page


def _mark(option: dict) -> dict:
    return next(s["markLine"] for s in option["series"] if "markLine" in s)


def _bars(option: dict) -> list[tuple[float, float]]:
    """Each bar's x-extent from the chart option: its centre ± half its bin."""
    return [(centre - 2.5, centre + 2.5) for centre, _n, _label in option["series"][0]["data"]]


def test_it_puts_the_pass_mark_on_the_edge_between_two_bins(demo):
    city = User.objects.get(username="city")
    round_ = demo.rounds.get(number=2)
    chart = dashboards.distribution_chart(round_, city)
    line = _mark(chart.option)["data"][0]["xAxis"]
    # Drawn by value on a value axis (a category axis rounds it to the middle of a bar).
    assert chart.option["xAxis"]["type"] == "value" and line == 80.0
    assert 80.0 in chart.option["xAxis"]["axisLabel"]["customValues"]
    assert any(right == line for _left, right in _bars(chart.option))
    assert any(left == line for left, _right in _bars(chart.option))
    # With two rounds side by side too: the line is a series of its own, never a bar's mark.
    compare = dashboards.comparison_chart(demo.rounds.get(number=1), round_, city)
    marked = [s for s in compare.option["series"] if "markLine" in s]
    assert [s["type"] for s in marked] == ["line"] and _mark(compare.option)["data"][0][
        "xAxis"
    ] == 80.0
    assert [row[0] for row in chart.rows if row[0] in ("75–80", "80–85")] == ["75–80", "80–85"]


def test_it_lays_the_bins_on_the_standards_own_pass_mark(demo):
    """A pass mark that is not a multiple of five (here 78.5, from the standard) is an edge
    too, and every complete total is counted in the bin that holds it."""
    Standard.objects.filter(pk=demo.standard.pk).update(pass_threshold=Decimal("78.5"))
    demo.refresh_from_db()
    round_ = demo.rounds.get(number=2)
    chart = dashboards.distribution_chart(round_, User.objects.get(username="city"))
    assert _mark(chart.option)["data"][0]["xAxis"] == 78.5
    labels = [row[0] for row in chart.rows]
    assert "73.5–78.5" in labels and "78.5–83.5" in labels and labels[-1] == "98.5–100"
    totals = CommunityResult.objects.filter(round=round_).exclude(outcome=Outcome.INCOMPLETE)
    expected: dict[str, int] = {}
    for total in totals.values_list("total", flat=True):
        low = next(
            label
            for label in labels
            if Decimal(label.split("–")[0]) <= total
            and (total < Decimal(label.split("–")[1]) or label == labels[-1])
        )
        expected[low] = expected.get(low, 0) + 1
    assert {row[0]: row[1] for row in chart.rows if row[1]} == expected


def test_the_bins_hold_their_lower_edge_and_the_last_holds_the_maximum():
    bins = Bins(Decimal("78.5"), Decimal(100))
    assert bins.edge(bins.index(Decimal("78.5"))) == Decimal("78.5")
    assert bins.label(bins.index(Decimal("78.49"))) == "73.5–78.5"
    assert bins.last == bins.index(Decimal("99.9")) and bins.label(bins.last) == "98.5–100"
    whole = Bins(Decimal(80), Decimal(100))
    assert whole.last == 19 and whole.label(whole.last) == "95–100"
    assert whole.index(Decimal(80)) == 16 and whole.label(16) == "80–85"


def test_it_says_what_each_legend_means(demo):
    city = User.objects.get(username="city")
    with translation.override("en"):
        progress = dashboards.progress_charts(city, demo, date(2026, 7, 1))
        rectification = dashboards.rectification_chart(demo, city, date(2026, 11, 1))
        distribution = dashboards.distribution_chart(demo.rounds.get(number=2), city)
    # "due" read 截止, the deadline: the bar is the open work that is not late yet.
    for chart in [*progress, rectification]:
        legend = [s["name"] for s in chart.option["series"]]
        assert "open, not yet due" in legend and "due" not in legend and "open" not in legend
        assert "open, not yet due" in chart.header
    line = next(s for s in distribution.option["series"] if "markLine" in s)
    assert line["name"] == "pass mark 80" and line["name"] in distribution.option["legend"]["data"]
    assert "lower edge up to, not including" in distribution.note
    assert "a standard unit from there" in distribution.note


def test_it_shows_the_key_figures_within_the_viewers_scope(demo, client):
    city, town = User.objects.get(username="city"), User.objects.get(username="town")
    rounds = list(demo.rounds.order_by("number"))
    today = timezone.localdate()

    def direct(names: set[str]) -> dict[str, int]:
        enrollments = demo.enrollments.filter(community__name__in=names)
        july = CommunityResult.objects.filter(round__number=2, enrollment__in=enrollments)
        return {
            "enrolled": enrollments.count(),
            "pre-accepted": enrollments.exclude(
                status__in=["enrolled", "self_assessing", "submitted", "returned", "town_reviewed"]
            ).count(),
            "standard": july.filter(outcome=Outcome.STANDARD).count(),
            "vetoed": july.filter(outcome=Outcome.VETOED).count(),
            "overdue": Rectification.objects.filter(
                enrollment__in=enrollments, status="open", due_on__lt=today
            ).count(),
        }

    everyone = set(demo.enrollments.values_list("community__name", flat=True))
    chengguan = everyone - set(DONGGUAN)
    got = {f.key: f.value for f in figures.key_figures(city, demo, rounds, today)}
    assert got == direct(everyone)
    # The demo's own story: 8 enrolled, 6 pre-accepted, 4 standard units, 1 vetoed.
    assert [got[k] for k in ("enrolled", "pre-accepted", "standard", "vetoed")] == [8, 6, 4, 1]
    assert got["overdue"] > 0
    mine = {f.key: f.value for f in figures.key_figures(town, demo, rounds, today)}
    assert mine == direct(chengguan) and mine["enrolled"] == 4
    # On the page, on top, before the first chart.
    client.force_login(town)
    page = client.get(reverse("dashboard", args=[demo.slug])).content.decode()
    assert page.index('data-testid="key-figures"') < page.index('data-testid="chart-')
    shown = re.findall(r'data-figure="([\w-]+)">.*?data-value>(?:<a [^>]*>)?(\d+)<', page, re.S)
    assert {k: int(v) for k, v in shown} == mine


def test_a_later_round_that_rescores_some_keeps_the_earlier_standard_units(demo):
    """November re-scores the rectifying communities only: July's standard units still count,
    and a community November finds vetoed counts as vetoed, not twice."""
    city = User.objects.get(username="city")
    rounds = list(demo.rounds.order_by("number"))
    november = rounds[2]
    xinhua = demo.enrollments.get(community__name="新华社区")
    reader.stored_in(rounds[1:]).count()  # July's and November's stored results brought up
    july = CommunityResult.objects.get(round__number=2, enrollment=xinhua)
    assert july.outcome == Outcome.NOT_REACHED
    CommunityResult.objects.filter(round=november, enrollment=xinhua).update(
        outcome=Outcome.STANDARD, total=Decimal("88.00"), assessed=True
    )
    for r in rounds:
        r.__dict__.pop("_results_current", None)
    got = {f.key: f.value for f in figures.key_figures(city, demo, rounds, timezone.localdate())}
    assert got["standard"] == 5 and got["vetoed"] == 1


def test_the_dashboard_and_ranking_ask_a_bounded_number_of_queries(
    demo, client, django_assert_max_num_queries
):
    client.force_login(User.objects.get(username="town"))
    client.get(reverse("dashboard", args=[demo.slug]))  # the stored results made current
    # The first ranking takes the campaign's figures snapshot (ADR 29; at once in tests).
    client.get(reverse("ranking", args=[demo.slug, 2]))
    with django_assert_max_num_queries(60):
        assert client.get(reverse("dashboard", args=[demo.slug])).status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get(reverse("ranking", args=[demo.slug, 2])).status_code == 200
