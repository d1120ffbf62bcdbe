"""The events of issue 18 item 3, each told by the app that owns it to the people who do the work,
with a link to the page where it is done: a task due soon, a rectification due, a round that
opens (and the scores it needs), an appeal decided. The periodic ones run with a fake clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from civicmark.accounts.models import RoleAssignment
from civicmark.assessments.models import Rectification
from civicmark.assessments.services import score_save
from civicmark.campaigns.models import Task, TaskStatus
from civicmark.campaigns.services import campaign_create, task_assign
from civicmark.core.errors import ApplicationError
from civicmark.core.periodic import run_one
from civicmark.notifications.models import Event, Notification
from civicmark.quality.appeals import Decision, appeal_assign, appeal_decide, appeal_file
from tests.factories import person, small_standard

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _at(day: dt.date = TODAY, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _told(event: str | None = None) -> dict[str, list[Notification]]:
    found: dict[str, list[Notification]] = {}
    notes = Notification.objects.select_related("recipient").order_by("pk")
    for note in notes.filter(event=event) if event else notes:
        found.setdefault(note.recipient.username, []).append(note)
    return found


# -- a task due soon ---------------------------------------------------------------------------


@pytest.fixture
def campaign(world):  # noqa: ANN001, ANN201
    found = campaign_create(
        actor=None,
        slug="ev",
        name="Events",
        year=2026,
        division=world.d["C"],
        standard=small_standard(world),
    )
    found.tasks.update(status=TaskStatus.DONE)  # only each test's own task is open
    return found


def _task(campaign, unit, due):  # noqa: ANN001, ANN202
    return Task.objects.create(
        campaign=campaign,
        phase=campaign.phases.first(),
        division=unit,
        title=f"Ledger of {unit.code}",
        due_on=due,
    )


def test_a_task_due_in_three_days_is_announced_to_its_units_office_once(world, campaign):
    task = _task(campaign, world.d["C111"], TODAY + dt.timedelta(days=3))
    later = _task(campaign, world.d["C111"], TODAY + dt.timedelta(days=4))

    for hour in (8, 12, 20):
        run_one("campaigns.tasks_due_soon", _at(hour=hour))

    told = _told()
    assert list(told) == ["community_staff"]
    (note,) = told["community_staff"]
    assert note.event == Event.TASK_DUE
    assert note.link == f"/campaigns/ev/tasks/{task.public_id}/"
    assert "2026-12-04" in note.title and "Ledger of C111" in note.title
    assert note.scope_path == world.d["C111"].path
    # The next day the later task's turn comes, and the first is not told again.
    run_one("campaigns.tasks_due_soon", _at(TODAY + dt.timedelta(days=1)))
    links = [n.link for n in _told()["community_staff"]]
    assert links == [note.link, f"/campaigns/ev/tasks/{later.public_id}/"]


def test_a_task_moved_to_a_new_date_is_announced_again(world, campaign):
    task = _task(campaign, world.d["C111"], TODAY + dt.timedelta(days=2))
    run_one("campaigns.tasks_due_soon", _at())
    Task.objects.filter(pk=task.pk).update(due_on=TODAY + dt.timedelta(days=3))
    run_one("campaigns.tasks_due_soon", _at())
    assert len(_told()["community_staff"]) == 2


def test_a_done_task_and_a_task_elsewhere_tell_nobody_here(world, campaign):
    done = _task(campaign, world.d["C111"], TODAY + dt.timedelta(days=1))
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.DONE)
    _task(campaign, world.d["C211"], TODAY + dt.timedelta(days=1))

    run_one("campaigns.tasks_due_soon", _at())

    assert list(_told()) == ["other_staff"]


def test_a_towns_task_goes_to_its_officers_or_to_the_owner_it_is_assigned_to(world, campaign):
    task = _task(campaign, world.d["T11"], TODAY + dt.timedelta(days=1))
    run_one("campaigns.tasks_due_soon", _at())
    assert list(_told()) == ["town_officer"]

    deputy = person("deputy", "town_officer", world.d["T11"])
    task_assign(actor=world.users["county_officer"], task=task, owner=deputy)
    Task.objects.filter(pk=task.pk).update(due_on=TODAY + dt.timedelta(days=2))
    run_one("campaigns.tasks_due_soon", _at())
    assert sorted(_told()) == ["deputy", "town_officer"]
    assert len(_told()["town_officer"]) == 1


def test_a_closed_account_is_not_told(world, campaign):
    staff = world.users["community_staff"]
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    _task(campaign, world.d["C111"], TODAY + dt.timedelta(days=1))
    run_one("campaigns.tasks_due_soon", _at())
    assert not Notification.objects.exists()


# -- a rectification due ------------------------------------------------------------------------


def test_a_rectification_due_soon_is_announced_to_its_communitys_staff(world, campaign):
    rectification = Rectification.objects.create(
        round=campaign.rounds.get(number=2),
        enrollment=campaign.enrollments.get(community=world.d["C111"]),
        item=campaign.standard.items.get(code="B1"),
        reason="活动记录不全",
        due_on=TODAY + dt.timedelta(days=2),
    )
    done = Rectification.objects.create(
        round=campaign.rounds.get(number=2),
        enrollment=campaign.enrollments.get(community=world.d["C112"]),
        reason="复查",
        due_on=TODAY + dt.timedelta(days=2),
        status="done",
    )
    staff112 = person("staff112", "community_staff", world.d["C112"])

    run_one("assessments.rectifications_due_soon", _at())
    run_one("assessments.rectifications_due_soon", _at(hour=18))

    told = _told()
    assert list(told) == ["community_staff"]
    (note,) = told["community_staff"]
    assert note.event == Event.RECTIFICATION_DUE
    assert note.link == f"/campaigns/ev/rectification/?town=T11#rect-{rectification.public_id}"
    assert "Community 111" in note.title and "B1" in note.title
    assert staff112.pk not in {n.recipient_id for n in Notification.objects.all()}
    assert done.status == "done"


# -- a round opened, scores needed -----------------------------------------------------------------


@pytest.fixture
def opened(scoring):  # noqa: ANN001, ANN201
    """The municipal round 2 open from 28 November to 10 December, covering every community."""
    round_ = scoring["round"]
    round_.__class__.objects.filter(pk=round_.pk).update(
        opens_on=dt.date(2026, 11, 28), closes_on=dt.date(2026, 12, 10)
    )
    round_.refresh_from_db()
    return scoring


def test_an_open_round_tells_the_communities_it_covers_and_the_assessors_with_items(world, opened):
    run_one("assessments.rounds_opened", _at())
    run_one("assessments.rounds_opened", _at(hour=15))

    communities = _told(Event.ROUND_OPENED)
    assert sorted(communities) == ["community_staff", "other_staff"]
    (note,) = communities["community_staff"]
    assert note.link == "/campaigns/c/self-assessment/?community=C111"
    assert opened["round"].name in note.title and "2026-12-10" in note.title
    assert communities["other_staff"][0].link == "/campaigns/c/self-assessment/?community=C211"

    panel = _told(Event.SCORES_NEEDED)
    assert sorted(panel) == ["fp0", "fp1", "fp2"]  # the city's assessors: its default panel
    (need,) = panel["fp0"]
    assert need.link == "/campaigns/c/rounds/2/score/"
    # fp0 scores FP's and PSB's items: all four, in each of the four communities.
    assert "涉及社区4个，您待评分项目16项" in need.body
    # The county's assessor sits on no municipal panel; officers are not assessors.
    assert not {"assessor", "city_admin", "town_officer"} & set(_told())


def test_an_assessor_put_on_the_panel_later_is_told_then_and_one_with_nothing_left_not(
    world, opened
):
    s = opened
    for enrollment in s["enrollments"].values():
        for item in s["items"].values():
            score_save(
                actor=s["assessors"][0],
                round_=s["round"],
                enrollment=enrollment,
                item=item,
                points=item.points,
            )
    run_one("assessments.rounds_opened", _at())
    assert sorted(_told(Event.SCORES_NEEDED)) == ["fp1", "fp2"]

    newcomer = person("fp9", "assessor", world.d["C"], department=world.dept["FP"])
    run_one("assessments.rounds_opened", _at(TODAY + dt.timedelta(days=1)))

    panel = _told(Event.SCORES_NEEDED)
    assert sorted(panel) == ["fp1", "fp2", "fp9"]
    assert "涉及社区4个，您待评分项目8项" in panel[newcomer.username][0].body  # FP's two items


def test_a_round_not_yet_open_closed_or_waiting_for_the_round_it_carries_from_tells_nobody(
    world, scoring
):
    rounds = scoring["campaign"].rounds
    rounds.filter(number=2).update(opens_on=dt.date(2026, 12, 2), closes_on=dt.date(2026, 12, 9))
    # November's round re-scores what round 2 found: it waits for round 2's sign-off.
    rounds.filter(number=3).update(opens_on=dt.date(2026, 11, 30), closes_on=dt.date(2026, 12, 9))
    rounds.filter(number=1).update(opens_on=dt.date(2026, 11, 1), closes_on=dt.date(2026, 11, 30))

    run_one("assessments.rounds_opened", _at())

    assert not Notification.objects.exists()


def test_a_round_past_its_window_and_not_signed_off_still_needs_its_scores(world, scoring):
    round_ = scoring["round"]
    round_.__class__.objects.filter(pk=round_.pk).update(
        opens_on=dt.date(2026, 11, 20), closes_on=dt.date(2026, 11, 30)
    )

    run_one("assessments.rounds_opened", _at())

    assert sorted(_told(Event.SCORES_NEEDED)) == ["fp0", "fp1", "fp2"]
    assert not _told(Event.ROUND_OPENED)  # its window is over: no community is told it opens


def test_a_split_county_round_tells_each_countys_assessors_of_their_own_communities(world, scoring):
    from civicmark.divisions.models import Department

    round_ = scoring["campaign"].rounds.get(number=1)
    scoring["campaign"].rounds.filter(pk=round_.pk).update(
        opens_on=dt.date(2026, 11, 30), closes_on=dt.date(2026, 12, 5)
    )
    # K1's own assessor scores FP's items (for a department of the city above him).
    RoleAssignment.objects.create(
        user=world.users["assessor"],
        role="assessor",
        division=world.d["K1"],
        department=Department.objects.get(code="FP"),
    )

    run_one("assessments.rounds_opened", _at())

    (need,) = _told(Event.SCORES_NEEDED)["assessor"]
    # C111, C112, C121 are K1's; C211 is K2's and not his.
    assert "涉及社区3个，您待评分项目6项" in need.body
    assert need.link == "/campaigns/c/rounds/1/score/"


# -- an appeal decided ---------------------------------------------------------------------------


@pytest.fixture
def appeal(scoring, world):  # noqa: ANN001, ANN201
    from tests.test_appeals import sign_off

    s = sign_off(scoring, world)
    filed = appeal_file(
        actor=s["staff"]["C112"],
        round_=s["round"],
        enrollment=s["enrollments"]["C112"],
        item=s["items"]["A1"],
        statement="台账第3页已记录",
    )
    s["appeal"] = appeal_assign(actor=s["lead"], appeal=filed, reviewer=s["reviewer"])
    return s


def test_a_decided_appeal_tells_the_communitys_staff_with_a_link_to_it(world, appeal):
    s = appeal
    colleague = person("colleague112", "community_staff", world.d["C112"])

    appeal_decide(
        actor=s["reviewer"],
        appeal=s["appeal"],
        decision=Decision(change=True, reason="台账完整", points=Decimal(30)),
    )

    told = _told(Event.APPEAL_DECIDED)
    assert sorted(told) == ["colleague112", "staff112"]
    note = told["staff112"][0]
    assert note.link == f"/campaigns/c/rounds/2/appeals/{s['appeal'].public_id}/"
    assert "A1" in note.title and "结果已更正" in note.title  # read in his language: Chinese
    assert "得分由5.00分改为30.00分" in note.body and "台账完整" in note.body
    assert colleague.pk == told["colleague112"][0].recipient_id
    # Nobody else: not the other communities' staff, the lead or the reviewer.
    assert set(_told()) == {"colleague112", "staff112"}


def test_an_upheld_appeal_says_the_result_stands(appeal):
    appeal_decide(
        actor=appeal["reviewer"],
        appeal=appeal["appeal"],
        decision=Decision(change=False, reason="扣分有据"),
    )
    (note,) = _told(Event.APPEAL_DECIDED)["staff112"]
    assert "维持原结果" in note.title and "扣分有据" in note.body


def test_a_refused_decision_tells_nobody(appeal):
    with pytest.raises(ApplicationError):
        appeal_decide(
            actor=appeal["reviewer"],
            appeal=appeal["appeal"],
            decision=Decision(change=True, reason="改", points=Decimal(31)),
        )
    assert not Notification.objects.exists()


# -- the demo ------------------------------------------------------------------------------------


def test_the_demo_inboxes_hold_an_escalation_scores_needed_and_decided_appeals(demo, client):
    from civicmark.notifications.models import Escalation

    told = _told()
    assert [n.event for n in told["zhaoyang"]] == [Event.TASK_OVERDUE]
    assert [n.event for n in told["town2"]] == [Event.ESCALATED]
    assert [n.event for n in told["county"]] == [Event.ESCALATED]
    assert Event.SCORES_NEEDED in {n.event for n in told["assessor"]}
    assert {n.event for n in told["dongguan"]} == {Event.APPEAL_DECIDED}
    assert "town" not in told and "community" not in told  # their work is not late
    (task,) = {n.link for n in told["town2"]}
    assert Escalation.objects.count() == 3
    client.force_login(told["town2"][0].recipient)
    client.cookies["django_language"] = "en"
    page = client.get(task).content.decode()
    assert "Escalated to 东关街道 on" in page and "Escalated to 安平县 on" in page
