"""Escalation (issue 18 item 4, ADR 26), with a fake clock: an overdue task or rectification goes
to its owner on day 1, to the town's officers on day N, to the county's on day N+M, once each
however often the job runs, never to another county, and nothing more once the work is done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.assessments.models import Rectification
from civicmark.assessments.services import rectification_update
from civicmark.campaigns.models import Task, TaskStatus
from civicmark.campaigns.services import campaign_create, task_assign, task_update
from civicmark.core.models import AuditEvent
from civicmark.core.periodic import run_all, run_one
from civicmark.notifications.escalation import levels_due
from civicmark.notifications.models import Escalation, Event, Notification
from tests.factories import person, small_standard

TZ = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 11, 1)
HOURS = (8, 12, 20)  # the job runs several times a day


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def campaign(world):  # noqa: ANN001, ANN201
    """A city campaign whose planned tasks are all done, so that each test's own task is the
    only open work."""
    found = campaign_create(
        actor=None,
        slug="esc",
        name="Escalation",
        year=2026,
        division=world.d["C"],
        standard=small_standard(world),
    )
    found.tasks.update(status=TaskStatus.DONE)
    return found


def _task(campaign, unit, due=DUE):  # noqa: ANN001, ANN202
    phase = campaign.phases.first()
    return Task.objects.create(
        campaign=campaign, phase=phase, division=unit, title=f"Ledger of {unit.code}", due_on=due
    )


def _at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _run_month(job: str, start: dt.date = DUE, end: dt.date = dt.date(2026, 12, 1)) -> dict:  # type: ignore[type-arg]
    """Run the job three times a day; return {username: the day he was first told}."""
    first: dict[str, dt.date] = {}
    for day in _days(start, end):
        for hour in HOURS:
            run_one(job, _at(day, hour))
        for name in Notification.objects.values_list("recipient__username", flat=True):
            first.setdefault(name, day)
    return first


def _keys_of(user) -> list[str]:  # noqa: ANN001
    return list(Notification.objects.filter(recipient=user).values_list("key", flat=True))


def test_it_tells_the_owner_on_day_1_the_town_on_day_n_and_the_county_on_day_n_plus_m(
    world, campaign
):
    task = _task(campaign, world.d["C111"])

    first = _run_month("campaigns.tasks_overdue")

    u = world.users
    assert first == {
        "community_staff": dt.date(2026, 11, 2),
        "town_officer": dt.date(2026, 11, 4),
        "county_officer": dt.date(2026, 11, 11),
    }
    # Once each, although the job ran 93 times.
    for who in ("community_staff", "town_officer", "county_officer"):
        assert Notification.objects.filter(recipient=u[who]).count() == 1
    steps = list(Escalation.objects.filter(object_id=task.public_id).order_by("level"))
    assert [(s.level, s.office and s.office.code) for s in steps] == [
        (0, None),
        (1, "T11"),
        (2, "K1"),
    ]
    assert [s.at.astimezone(TZ).date() for s in steps] == [
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 4),
        dt.date(2026, 11, 11),
    ]
    assert [list(s.recipients.values_list("username", flat=True)) for s in steps] == [
        ["community_staff"],
        ["town_officer"],
        ["county_officer"],
    ]
    audited = AuditEvent.objects.filter(action="escalation.step", object_ref=str(task.public_id))
    assert sorted(e.after["level"] for e in audited) == [0, 1, 2]
    assert all(e.via == "system" and e.actor is None for e in audited)
    owner_note = Notification.objects.get(recipient=u["community_staff"])
    assert owner_note.event == Event.TASK_OVERDUE
    assert owner_note.link == f"/campaigns/esc/tasks/{task.public_id}/"
    town_note = Notification.objects.get(recipient=u["town_officer"])
    assert town_note.event == Event.ESCALATED and town_note.link == owner_note.link
    assert "Town 11" in town_note.title and "Ledger of C111" in town_note.title


def test_a_task_in_another_county_never_reaches_this_countys_officers(world, campaign):
    task = _task(campaign, world.d["C211"])  # County Two, Town 21

    first = _run_month("campaigns.tasks_overdue")

    assert first == {
        "other_staff": dt.date(2026, 11, 2),
        "other_county_officer": dt.date(2026, 11, 11),
    }  # Town 21 has no officer: its step is recorded with no one told
    assert not Notification.objects.filter(
        recipient__in=[world.users["county_officer"], world.users["town_officer"]]
    ).exists()
    vacant = Escalation.objects.get(object_id=task.public_id, level=1)
    assert vacant.office.code == "T21" and not vacant.recipients.exists()


def test_completing_the_task_stops_every_further_step(world, campaign):
    task = _task(campaign, world.d["C111"])
    _run_month("campaigns.tasks_overdue", end=dt.date(2026, 11, 5))
    assert Escalation.objects.filter(object_id=task.public_id).count() == 2
    told = Notification.objects.count()

    task_update(actor=world.users["community_staff"], task=task, status=TaskStatus.DONE)
    _run_month("campaigns.tasks_overdue", start=dt.date(2026, 11, 5))

    assert Escalation.objects.filter(object_id=task.public_id).count() == 2
    assert Notification.objects.count() == told
    assert not Notification.objects.filter(recipient=world.users["county_officer"]).exists()


def test_a_task_done_before_it_was_due_takes_no_step(world, campaign):
    task = _task(campaign, world.d["C111"])
    task_update(actor=world.users["community_staff"], task=task, status=TaskStatus.DONE)
    _run_month("campaigns.tasks_overdue", start=dt.date(2026, 10, 20))
    assert not Escalation.objects.exists() and not Notification.objects.exists()


def test_a_task_done_while_the_job_holds_it_takes_no_step(world, campaign):
    """The step's own check, under the task's lock, stops a step that races the completion:
    the scan saw the task open, and it was done before the step was written."""
    from civicmark.campaigns import reminders

    task = _task(campaign, world.d["C111"])
    seen = list(Task.objects.filter(pk=task.pk).select_related("division", "campaign__division"))
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)
    owners = reminders._owners_of(seen)
    from civicmark.notifications import escalation

    taken = escalation.advance([reminders._overdue(seen[0], owners)], _at(dt.date(2026, 11, 20)))
    assert taken == [] and not Escalation.objects.exists()
    assert not Notification.objects.exists()


def test_an_assigned_owner_is_told_instead_of_the_units_office(world, campaign):
    task = _task(campaign, world.d["T11"])  # the town's own task
    deputy = person("deputy", "town_officer", world.d["T11"])
    task_assign(actor=world.users["county_officer"], task=task, owner=deputy)

    first = _run_month("campaigns.tasks_overdue")

    # The town's task goes to its owner, then the county, then the city: the office above each.
    assert first == {
        "deputy": dt.date(2026, 11, 2),
        "county_officer": dt.date(2026, 11, 4),
        "city_admin": dt.date(2026, 11, 11),
    }


def test_a_county_campaign_escalates_no_higher_than_the_county(world):
    campaign = campaign_create(
        actor=None,
        slug="k1",
        name="K1",
        year=2026,
        division=world.d["K1"],
        standard=small_standard(world),
    )
    campaign.tasks.update(status=TaskStatus.DONE)
    _task(campaign, world.d["T11"])

    first = _run_month("campaigns.tasks_overdue")

    assert first == {"town_officer": dt.date(2026, 11, 2), "county_officer": dt.date(2026, 11, 4)}


@override_settings(CIVICMARK_ESCALATE_HEAD_DAYS=2, CIVICMARK_ESCALATE_ABOVE_DAYS=5)
def test_the_days_are_settings(world, campaign):
    _task(campaign, world.d["C111"])
    first = _run_month("campaigns.tasks_overdue")
    assert first["town_officer"] == dt.date(2026, 11, 3)
    assert first["county_officer"] == dt.date(2026, 11, 8)


def test_the_task_page_shows_each_step(world, campaign, client_for):
    task = _task(campaign, world.d["C111"])
    _run_month("campaigns.tasks_overdue", end=dt.date(2026, 11, 12))
    client = client_for(world.users["town_officer"])
    client.cookies["django_language"] = "en"

    page = client.get(f"/campaigns/esc/tasks/{task.public_id}/").content.decode()

    assert "Overdue: its owner was told on 2026-11-02 (community_staff)." in page
    assert "Escalated to Town 11 on 2026-11-04 (town_officer)." in page
    assert "Escalated to County One on 2026-11-11 (county_officer)." in page


# -- rectifications: the same engine ------------------------------------------------------------


@pytest.fixture
def rectification(world, campaign):  # noqa: ANN001, ANN201
    enrollment = campaign.enrollments.get(community=world.d["C111"])
    return Rectification.objects.create(
        round=campaign.rounds.get(number=2),
        enrollment=enrollment,
        item=campaign.standard.items.get(code="A1"),
        reason="台账缺一个季度",
        due_on=DUE,
    )


def test_an_overdue_rectification_climbs_the_same_steps(world, rectification):
    first = _run_month("assessments.rectifications_overdue")

    assert first == {
        "community_staff": dt.date(2026, 11, 2),
        "town_officer": dt.date(2026, 11, 4),
        "county_officer": dt.date(2026, 11, 11),
    }
    note = Notification.objects.get(recipient=world.users["community_staff"])
    assert note.event == Event.RECTIFICATION_OVERDUE
    assert note.link == f"/campaigns/esc/rectification/?town=T11#rect-{rectification.public_id}"
    assert "Community 111" in note.title and "A1" in note.title


def test_a_rectification_reported_done_stops_its_escalation(world, rectification):
    _run_month("assessments.rectifications_overdue", end=dt.date(2026, 11, 3))
    rectification_update(
        actor=world.users["community_staff"],
        rectification=rectification,
        status="done",
        note="补齐台账",
    )
    _run_month("assessments.rectifications_overdue", start=dt.date(2026, 11, 3))
    assert list(Escalation.objects.values_list("level", flat=True)) == [0]
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "community_staff"
    }


def test_the_rectification_card_shows_its_steps(world, rectification, client_for):
    _run_month("assessments.rectifications_overdue", end=dt.date(2026, 11, 5))
    client = client_for(world.users["county_officer"])
    client.cookies["django_language"] = "en"
    page = client.get("/campaigns/esc/rectification/?town=T11").content.decode()
    assert "Escalated to Town 11 on 2026-11-04 (town_officer)." in page


def test_every_job_together_is_idempotent_at_one_instant(world, campaign, rectification):
    _task(campaign, world.d["C111"])
    at = _at(dt.date(2026, 11, 20))
    run_all(at)
    counts = (Notification.objects.count(), Escalation.objects.count(), AuditEvent.objects.count())
    run_all(at)
    run_all(at + dt.timedelta(hours=1))
    assert counts == (
        Notification.objects.count(),
        Escalation.objects.count(),
        AuditEvent.objects.count(),
    )
    assert counts[1] == 6  # three steps for the task, three for the rectification


# -- the rule over many cases ---------------------------------------------------------------------


def _expected(due: dt.date, last_open_day: dt.date) -> list[int]:
    """Written apart from the engine: day 1, day 3, day 10 after the due date (N=3, M=7)."""
    return [
        level
        for level, after in ((0, 1), (1, 3), (2, 10))
        if last_open_day >= due + dt.timedelta(days=after)
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    due_offset=st.integers(min_value=-12, max_value=20),
    done_after=st.one_of(st.none(), st.integers(min_value=0, max_value=30)),
)
def test_the_steps_taken_are_exactly_those_before_completion(
    world, campaign, due_offset, done_after
):
    start = dt.date(2026, 11, 1)
    due = start + dt.timedelta(days=due_offset)
    task = _task(campaign, world.d["C111"], due=due)
    done_on = None if done_after is None else start + dt.timedelta(days=done_after)
    end = start + dt.timedelta(days=30)
    for day in _days(start, end):
        if day == done_on:
            Task.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)
        for hour in (9, 18):
            run_one("campaigns.tasks_overdue", _at(day, hour))
    last_open = end if done_on is None else done_on - dt.timedelta(days=1)
    taken = sorted(
        Escalation.objects.filter(object_id=task.public_id).values_list("level", flat=True)
    )
    assert taken == (_expected(due, last_open) if last_open >= start else [])
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)  # the next example's world


@given(
    overdue=st.integers(min_value=-5, max_value=60),
    head=st.integers(min_value=1, max_value=20),
    above=st.integers(min_value=1, max_value=20),
)
def test_levels_due_grow_with_the_days_and_never_skip_the_owner(overdue, head, above):
    today = DUE + dt.timedelta(days=overdue)
    levels = levels_due(DUE, today, head_days=head, above_days=above)
    assert levels == list(range(len(levels)))  # 0, then 1, then 2: none skipped
    assert (0 in levels) == (overdue >= 1)
    assert (1 in levels) == (overdue >= head)
    assert (2 in levels) == (overdue >= head + above)
    later = levels_due(DUE, today + dt.timedelta(days=1), head_days=head, above_days=above)
    assert set(levels) <= set(later)
