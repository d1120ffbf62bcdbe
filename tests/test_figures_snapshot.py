"""The campaign's figures snapshot (ADR 29): ranks, places and the dashboard taken off-request,
equal to a recomputation once the refresh ran, and said to be behind ("as of", refreshing) when
an audited write came after it."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.accounts.models import RoleAssignment, User
from civicmark.assessments.services import score_save, veto_finding_record
from civicmark.core import periodic
from civicmark.results import dashboards, figures, snapshots, summary
from civicmark.results.models import FiguresSnapshot
from civicmark.results.scale import build_city
from civicmark.scoring.models import CommunityResult, Score
from tests.factories import small_standard

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def officer(campaign, name: str = "officer") -> User:  # noqa: ANN001
    user = User.objects.create(username=f"{campaign.slug}-{name}")
    RoleAssignment.objects.create(user=user, role="city_admin", division=campaign.division)
    return user


def live_ranking(round_):  # noqa: ANN001, ANN201
    """Every row of the ranking as the page would count it with no snapshot: order, rank."""
    for r in [round_]:
        r.__dict__.pop("_ranked_totals", None)
        r.__dict__.pop("_results_current", None)
    rows = summary.to_rows(round_, summary.as_values(summary.ranked(round_, None)))
    return [(r.code, r.rank, r.total, r.outcome) for r in rows]


def stored_ranking(round_):  # noqa: ANN001, ANN201
    round_.__dict__.pop("_results_current", None)
    shown = summary.ranked(round_, None, placed=True)
    rows = summary.to_rows(round_, summary.as_values(shown), stored_ranks=True)
    return [(r.code, r.rank, r.total, r.outcome) for r in rows]


def change_scores(campaign, changes: list[tuple[int, int, int]]) -> None:  # noqa: ANN001
    """Each change: (community index, item index, points lost in halves), saved by the round's
    assessor of the item's department through the one writer."""
    round_ = campaign.rounds.get(number=2)
    enrollments = list(campaign.enrollments.select_related("community").order_by("pk"))
    items = list(campaign.standard.items.order_by("pk"))
    for e, i, lost in changes:
        item = items[i % len(items)]
        assessor = User.objects.get(
            username=f"{campaign.slug.split('-')[0]}-city-{item.department.code.lower()}"
        )
        points = max(Decimal(0), item.points - Decimal(lost) / 2)
        enrollment = enrollments[e % len(enrollments)]
        version = (
            Score.objects.filter(round=round_, enrollment=enrollment, item=item, assessor=assessor)
            .values_list("version", flat=True)
            .first()
        )
        score_save(
            actor=assessor,
            round_=round_,
            enrollment=enrollment,
            item=item,
            points=points,
            reason="" if points == item.points else "复查扣分",
            expected_version=version,
        )


@pytest.fixture
def city(world):  # noqa: ANN001, ANN201
    return build_city(40, small_standard(world), prefix="Q")


@pytest.mark.django_db
def test_it_ranks_and_places_every_row_as_a_recomputation_does(city):
    round_ = city.rounds.get(number=2)
    snapshots.take(city)
    assert stored_ranking(round_) == live_ranking(round_)
    ranked = [r for r in stored_ranking(round_) if r[1] is not None]
    assert ranked and ranked[0][1] == 1


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 39), st.integers(0, 20), st.integers(0, 12)),
        min_size=1,
        max_size=8,
    ),
    veto=st.booleans(),
)
def test_after_any_writes_and_a_refresh_the_page_equals_a_recomputation(city, changes, veto):
    # Given the snapshot taken, when scores change (ties, drops, recoveries) and maybe a veto is
    # found, and the refresh runs, then every rank and place equals the live count.
    round_ = city.rounds.get(number=2)
    snapshots.take(city)
    change_scores(city, changes)
    if veto:
        found = city.standard.vetoes.first()
        enrollment = city.enrollments.order_by("pk")[changes[0][0] % 40]
        if found is not None and not enrollment.veto_findings.filter(round=round_).exists():
            veto_finding_record(
                actor=User.objects.get(username=f"q-city-{found.department.code.lower()}"),
                round_=round_,
                enrollment=enrollment,
                veto=found,
                reason="复查发现否决情形",
            )
    snapshots.take(city)
    assert stored_ranking(round_) == live_ranking(round_)


@pytest.mark.django_db
def test_the_ranking_page_reads_ranks_and_counts_from_the_snapshot(city, client):
    client.force_login(officer(city))
    url = reverse("ranking", args=[city.slug, 2])
    client.get(url)  # the first view takes the snapshot (at once in tests)
    response = client.get(url)
    round_ = city.rounds.get(number=2)
    live = live_ranking(round_)
    shown = [(r.code, r.rank, r.total, r.outcome) for r in response.context["rows"]]
    assert shown == live[: len(shown)]
    assert response.context["count"] == len(live)
    assert response.context["ranked_count"] == sum(1 for r in live if r[1] is not None)
    assert response.context["as_of"] is not None and not response.context["refreshing"]
    assert 'data-testid="as-of"' in response.content.decode()


@pytest.mark.django_db
def test_the_dashboard_from_the_snapshot_equals_the_live_one(city, client):
    user = officer(city)
    client.force_login(user)
    url = reverse("dashboard", args=[city.slug]) + "?round=2"
    change_scores(city, [(3, 1, 4), (7, 2, 9)])
    response = client.get(url)  # behind: taken at once in tests, then read
    assert response.context["as_of"] is not None
    rounds = list(city.rounds.order_by("number"))
    chosen = rounds[1]
    today = timezone.localdate()
    shared = dashboards.shared_charts(user, city, rounds, today)
    live = [
        *shared["progress"],
        *shared["acceptance"],
        *dashboards.score_charts(user, rounds, chosen),
        *shared["rectification"],
    ]
    served = [c for _title, charts in response.context["sections"] for c in charts]
    # Every row of a long chart (`all_rows`) is for the CSV, counted live.
    assert [{**c.__dict__, "all_rows": None} for c in served] == [
        {**c.__dict__, "all_rows": None} for c in live
    ]
    key = figures.key_figures(user, city, rounds, today)
    assert response.context["figures"] == key


@pytest.mark.django_db
def test_a_narrower_scope_counts_its_own_dashboard_live(city, client):
    town = city.enrollments.first().community.parent
    user = User.objects.create(username="q-town")
    RoleAssignment.objects.create(user=user, role="town_officer", division=town)
    client.force_login(user)
    response = client.get(reverse("dashboard", args=[city.slug]) + "?round=2")
    assert response.status_code == 200
    assert response.context["as_of"] is None  # counted live within the town
    acceptance = next(c for c in response.context["sections"][1][1] if c.key == "acceptance-2")
    assert sum(row[-1] for row in acceptance.rows) == 10  # the town's ten communities


@pytest.mark.django_db
def test_a_page_behind_its_snapshot_says_so_and_asks_one_refresh(
    city, client, django_capture_on_commit_callbacks
):
    client.force_login(officer(city))
    url = reverse("ranking", args=[city.slug, 2])
    snapshots.take(city)
    with override_settings(TASKS=DUMMY):
        from django_tasks import default_task_backend

        default_task_backend.clear()
        page = client.get(url)
        assert not page.context["refreshing"]
        change_scores(city, [(0, 0, 20)])  # an audited write after the snapshot
        with django_capture_on_commit_callbacks(execute=True):
            first = client.get(url)
            second = client.get(reverse("dashboard", args=[city.slug]) + "?round=2")
        assert first.context["refreshing"] and second.context["refreshing"]
        assert "being counted" in first.content.decode() or "正在" in first.content.decode()
        queued = [
            r for r in default_task_backend.results if r.task.func == snapshots.refresh_figures.func
        ]
        assert len(queued) == 1  # debounced: one refresh queued for both pages
        queued[0].task.call(*queued[0].args)  # the worker runs it
        after = client.get(url)
    assert not after.context["refreshing"]
    round_ = city.rounds.get(number=2)
    shown = [(r.code, r.rank, r.total, r.outcome) for r in after.context["rows"]]
    assert shown == live_ranking(round_)[: len(shown)]


@pytest.mark.django_db
def test_a_download_alone_leaves_the_snapshot_current(city, client):
    client.force_login(officer(city))
    snapshots.take(city)
    taken = FiguresSnapshot.objects.get(campaign=city).taken_at
    client.get(reverse("ranking", args=[city.slug, 2]) + "?format=csv")  # audited, reads only
    assert not snapshots.behind(city, snapshots.read(city), timezone.now())
    assert FiguresSnapshot.objects.get(campaign=city).taken_at == taken


@pytest.mark.django_db
def test_a_new_day_leaves_the_snapshot_behind(city):
    snapshots.take(city)
    snapshot = snapshots.read(city)
    assert not snapshots.behind(city, snapshot, timezone.now())
    assert snapshots.behind(city, snapshot, timezone.now() + timedelta(days=1))


@pytest.mark.django_db
def test_the_periodic_job_retakes_only_what_is_behind(city):
    now = timezone.now()
    snapshots.take(city, now)
    assert periodic.run_one("results.figures", now + timedelta(seconds=1)) == []
    change_scores(city, [(5, 3, 6)])
    later = timezone.now() + timedelta(seconds=1)
    assert periodic.run_one("results.figures", later) == [city.slug]
    assert FiguresSnapshot.objects.get(campaign=city).taken_at == later
    round_ = city.rounds.get(number=2)
    assert stored_ranking(round_) == live_ranking(round_)


@pytest.mark.django_db
def test_a_recomputed_row_keeps_its_place_until_the_next_snapshot(city):
    round_ = city.rounds.get(number=2)
    snapshots.take(city)
    before = dict(
        CommunityResult.objects.filter(round=round_).values_list("enrollment", "position")
    )
    change_scores(city, [(1, 0, 30)])
    round_.__dict__.pop("_results_current", None)
    summary.results_for(round_, None).count()  # the read recomputes the stale community
    after = dict(CommunityResult.objects.filter(round=round_).values_list("enrollment", "position"))
    assert after == before


@pytest.mark.django_db
def test_past_300_towns_the_filter_is_typed_as_a_code(city, monkeypatch):
    monkeypatch.setattr(snapshots, "CHOICES_SHOWN", 3)
    snapshots.take(city)
    known = snapshots.round_figures(snapshots.read(city), city.rounds.get(number=2))
    assert known["towns"] == {"n": 4, "shown": None}
    assert known["counties"]["n"] == 1 and len(known["counties"]["shown"]) == 1


def _queries(client, url: str) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_pages_served_from_a_behind_snapshot_ask_as_many_queries_at_two_sizes(world, client):
    standard = small_standard(world)
    counts = []
    for n, prefix in ((10, "A"), (300, "B")):
        campaign = build_city(n, standard, prefix=prefix, seed=random.Random(n).randint(1, 99))
        snapshots.take(campaign)
        client.force_login(officer(campaign))
        change_scores(campaign, [(1, 1, 3)])  # behind: the pages say so and queue a refresh
        with override_settings(TASKS=DUMMY):
            urls = [
                reverse("ranking", args=[campaign.slug, 2]),
                reverse("dashboard", args=[campaign.slug]) + "?round=2",
            ]
            for url in urls:
                _queries(client, url)
            counts.append([_queries(client, url) for url in urls])
    assert counts[0] == counts[1]
