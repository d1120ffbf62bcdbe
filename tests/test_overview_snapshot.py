"""The campaign overview's figures taken off-request (ADR 30): equal to a live recomputation by
the same selectors once the refresh ran, said to be behind ("as of", refreshing) when an audited
write came after them, the same queries whatever the campaign's size, and counted live for a
viewer narrower than the campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.accounts.models import RoleAssignment, User
from civicmark.campaigns import progress
from civicmark.campaigns.models import Campaign, MeetingKind, Task, TaskStatus
from civicmark.campaigns.services import (
    attendance_record,
    campaign_create,
    meeting_create,
    task_update,
)
from civicmark.core import periodic
from civicmark.divisions.models import Division
from tests.factories import division, small_standard

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
STATUSES = [TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.DONE]


def build(world, prefix: str, towns: int, per_town: int) -> Campaign:  # noqa: ANN001
    """A city of `towns` towns of `per_town` communities each (under one county) and a campaign
    run by it, planned by the service (phases and tasks for every unit)."""
    city = division(f"{prefix}C", f"{prefix}市", "city")
    county = division(f"{prefix}K", f"{prefix}县", "county", city)
    members: list[Division] = []
    for t in range(towns):
        town = division(f"{prefix}T{t}", f"{prefix}镇{t}", "town", county)
        members += [
            division(f"{prefix}{t}{c:02d}", f"{prefix}社区{t}-{c}", "community", town)
            for c in range(per_town)
        ]
    return campaign_create(
        actor=None,
        slug=f"{prefix.lower()}-2026",
        name=f"{prefix} 2026",
        year=2026,
        division=city,
        standard=small_standard(world, slug=f"small-{prefix.lower()}"),
        communities=members,
    )


def officer(campaign: Campaign, role: str = "city_admin", at: Division | None = None) -> User:
    """One per role and place (hypothesis runs a test's examples on one database)."""
    at = at or campaign.division
    user = User.objects.create(username=f"{campaign.slug}-{role}-{at.code}")
    RoleAssignment.objects.create(user=user, role=role, division=at)
    return user


def write_tasks(campaign: Campaign, actor: User, writes: list[tuple[int, int, int | None]]) -> None:
    """Each write: (task index, status index, due date moved by days from today or None), by the
    one writer; a task that follows the work keeps its status (only its date moves)."""
    tasks = list(campaign.tasks.order_by("pk"))
    today = timezone.localdate()
    for i, s, moved in writes:
        task = tasks[i % len(tasks)]
        status = task.status if task.follows else STATUSES[s % 3]
        due = today + timedelta(days=moved) if moved is not None else None
        task_update(actor=actor, task=task, status=status, due_on=due)


def served(client, campaign: Campaign):  # noqa: ANN001, ANN201
    response = client.get(reverse("campaign_overview", args=[campaign.slug]))
    assert response.status_code == 200
    return response


def page_figures(response) -> dict:  # noqa: ANN001
    return {
        k: list(response.context[k]) if k in ("week",) else response.context[k]
        for k in (
            "phases",
            "towns",
            "towns_total",
            "communities",
            "communities_total",
            "week",
            "week_total",
            "attendance",
            "attendance_total",
        )
    }


@pytest.fixture
def city(world):  # noqa: ANN001, ANN201
    return build(world, "Q", towns=4, per_town=3)


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=st.lists(
        st.tuples(
            st.integers(0, 10_000), st.integers(0, 2), st.one_of(st.none(), st.integers(-9, 9))
        ),
        min_size=1,
        max_size=10,
    ),
    came=st.sets(st.integers(0, 11), max_size=12),
)
def test_after_any_writes_and_a_refresh_the_page_equals_a_recomputation(
    city, client, monkeypatch, writes, came
):
    # Given few rows shown (so that the top of each list is chosen among ties), when tasks are
    # ticked, reopened and moved across today, attendance recorded, and the refresh runs, then
    # the campaign-wide page shows exactly what the selectors count live.
    monkeypatch.setattr(progress, "SHOWN", 2)
    monkeypatch.setattr(progress, "SHOWN_WEEK", 3)
    user = User.objects.filter(username="q-2026-city_admin-QC").first() or officer(city)
    progress.take(city)
    write_tasks(city, user, writes)
    communities = list(Division.objects.filter(enrollments__campaign=city).order_by("path"))
    meeting = meeting_create(
        actor=user,
        campaign=city,
        kind=MeetingKind.TRAINING,
        title="培训",
        held_on=timezone.localdate(),
        host=city.division,
        expected=[(c, f"委员{i}") for i, c in enumerate(communities)],
    )
    rows = list(meeting.attendance.order_by("pk"))
    attendance_record(actor=user, meeting=meeting, present={rows[i].pk for i in came})
    with override_settings(TASKS=DUMMY):  # the page must serve the snapshot, not take it
        progress.take(city)
        client.force_login(user)
        response = served(client, city)
    assert response.context["as_of"] is not None and not response.context["refreshing"]
    live = progress.live(user, Campaign.objects.get(pk=city.pk), timezone.localdate())
    assert page_figures(response) == live
    assert live["towns"] and live["communities"] and live["attendance"]


@pytest.mark.django_db
def test_the_campaign_wide_page_counts_no_task_per_request(city, client):
    client.force_login(officer(city))
    progress.take(city)
    with CaptureQueriesContext(connection) as ctx:
        page = served(client, city)
    task_table = Task._meta.db_table
    counted = [
        q["sql"] for q in ctx.captured_queries if task_table in q["sql"] and "COUNT(" in q["sql"]
    ]
    assert counted == []  # the GROUP BYs over every task are the snapshot's, not the request's
    assert 'data-testid="as-of"' in page.content.decode()


def _queries(client, campaign: Campaign) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as ctx:
        served(client, campaign)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_page_asks_as_many_queries_at_two_sizes(world, client):
    counts = []
    for prefix, towns in (("A", 1), ("B", 12)):
        campaign = build(world, prefix, towns=towns, per_town=4)
        user = officer(campaign)
        progress.take(campaign)
        client.force_login(user)
        served(client, campaign)  # the session's first request writes its bookkeeping
        write_tasks(campaign, user, [(3, 2, None), (5, 0, -2), (7, 1, 3)])
        with override_settings(TASKS=DUMMY):  # behind: served, said so, a refresh queued
            counts.append([_queries(client, campaign), _queries(client, campaign)])
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_a_behind_page_says_so_and_asks_one_refresh(
    city, client, django_capture_on_commit_callbacks
):
    user = officer(city)
    client.force_login(user)
    progress.take(city)
    with override_settings(TASKS=DUMMY):
        from django_tasks import default_task_backend

        default_task_backend.clear()
        assert not served(client, city).context["refreshing"]
        write_tasks(city, user, [(0, 2, None)])  # an audited write after the snapshot
        with django_capture_on_commit_callbacks(execute=True):
            first = served(client, city)
            second = served(client, city)
        assert first.context["refreshing"] and second.context["refreshing"]
        queued = [
            r for r in default_task_backend.results if r.task.func == progress.refresh_progress.func
        ]
        assert len(queued) == 1  # debounced: one refresh for both views
        queued[0].task.call(*queued[0].args)  # the worker runs it
        after = served(client, city)
    assert not after.context["refreshing"]
    assert page_figures(after) == progress.live(user, city, timezone.localdate())


@pytest.mark.django_db
def test_a_new_day_leaves_the_figures_behind_and_the_periodic_job_retakes_them(city):
    now = timezone.now()
    progress.take(city, now)
    assert periodic.run_one("campaigns.progress", now + timedelta(seconds=1)) == []
    tomorrow = now + timedelta(days=1)
    assert periodic.run_one("campaigns.progress", tomorrow) == [city.slug]
    assert progress.read(Campaign.objects.get(pk=city.pk)).taken_at == tomorrow


@pytest.mark.django_db
def test_a_town_officer_counts_his_own_town_live(city, client):
    town = Division.objects.get(code="QT1")
    user = officer(city, "town_officer", town)
    progress.take(city)
    write_tasks(
        city, officer(city, "county_officer", town.parent), [(i, 2, None) for i in range(9)]
    )
    client.force_login(user)
    with override_settings(TASKS=DUMMY):
        response = served(client, city)
    assert response.context["as_of"] is None and not response.context["refreshing"]
    assert page_figures(response) == progress.live(user, city, timezone.localdate())
    assert [t["town"] for t in response.context["towns"]] == [town]
    assert response.context["communities_total"] == 3  # his town's three, not the city's twelve
