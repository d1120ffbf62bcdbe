"""Tasks follow the work (issue 16, item 4): a task the plan ties to a step of the work is done
when its community or county reaches that step, open again when the work is undone, and
"overdue" means not done and past its date, nothing else."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.utils import translation

from civicmark.assessments.services import round_finalise, round_reopen
from civicmark.assessments.workflow import State, return_with_comments
from civicmark.campaigns import selectors
from civicmark.campaigns.models import Task, TaskFollows, TaskStatus
from civicmark.campaigns.services import task_update
from civicmark.core.errors import ApplicationError
from civicmark.core.models import AuditEvent
from tests.factories import report_upward
from tests.test_round_parts import parts, score_all  # noqa: F401  (the fixture)
from tests.test_round_results import COMMUNITIES
from tests.test_workflow import move, self_assess

NOVEMBER = date(2026, 11, 25)  # after the county round, the July round and the self-assessments


def self_assessment_task(s, code):  # noqa: ANN001, ANN201
    return Task.objects.get(
        campaign=s["campaign"], follows=TaskFollows.SUBMISSION, division__code=code
    )


def county_task(s, code):  # noqa: ANN001, ANN201
    return Task.objects.get(
        campaign=s["campaign"], follows=TaskFollows.COUNTY_ROUND, division__code=code
    )


def acceptance(user, s):  # noqa: ANN001, ANN201
    rows = selectors.progress_by_phase(user, s["campaign"], NOVEMBER)
    return next(r for r in rows if r["phase"].key == "acceptance")


def test_it_completes_the_acceptance_step_after_the_county_round_and_two_signed_off_rounds(
    parts,  # noqa: F811
    world,
):
    """The finding: after the county pre-acceptance and two signed-off rounds, the overview
    still showed 检查验收 0/9 with 9 overdue, and a reported community's self-assessment task
    stayed "not started, overdue"."""
    s, users = parts, world.users
    move(s, users["community_staff"], ["C111"], State.SELF_ASSESSING)
    self_assess(s, world)
    move(s, users["community_staff"], ["C111"], State.SUBMITTED)
    move(s, users["town_officer"], ["C111"], State.TOWN_REVIEWED)
    round1 = s["round1"]
    score_all(s, round1, COMMUNITIES)
    round_finalise(actor=users["city_admin"], round_=round1)  # every county's part at once
    move(s, users["county_officer"], ["C111"], State.COUNTY_PRE_ACCEPTED)
    report_upward(s, users["county_officer"], ["C111"])
    round2 = s["campaign"].rounds.get(number=2)
    score_all(s, round2, COMMUNITIES)
    round_finalise(actor=users["city_admin"], round_=round2)

    step = acceptance(users["city_admin"], s)
    assert (step["done"], step["total"], step["overdue"]) == (2, 2, 0)  # K1's task and K2's
    reported = self_assessment_task(s, "C111")
    assert reported.status == TaskStatus.DONE and not reported.is_overdue(NOVEMBER)
    # A community that never submitted is truly late, and says so.
    late = self_assessment_task(s, "C112")
    assert late.status == TaskStatus.OPEN and late.is_overdue(NOVEMBER)
    events = AuditEvent.objects.filter(action="task.followed_work")
    assert events.count() == 3
    assert events.filter(object_ref=str(reported.public_id), via="web").exists()


def test_it_opens_the_self_assessment_task_again_when_the_town_returns_it(parts, world):  # noqa: F811
    s, users = parts, world.users
    move(s, users["community_staff"], ["C111"], State.SELF_ASSESSING)
    self_assess(s, world)
    assert self_assessment_task(s, "C111").status == TaskStatus.OPEN
    move(s, users["community_staff"], ["C111"], State.SUBMITTED)
    done = self_assessment_task(s, "C111")
    assert done.status == TaskStatus.DONE and done.done_at is not None
    return_with_comments(
        actor=users["town_officer"],
        enrollment=s["enrollments"]["C111"],
        comment="台账不全",
        item_comments={},
    )
    reopened = self_assessment_task(s, "C111")
    assert reopened.status == TaskStatus.OPEN and reopened.done_at is None
    assert [e.after["status"] for e in AuditEvent.objects.filter(action="task.followed_work")][
        ::-1
    ] == ["done", "open"]
    # The other communities' tasks were never touched.
    assert self_assessment_task(s, "C112").status == TaskStatus.OPEN


def test_it_completes_a_countys_task_with_its_own_part_of_the_county_round(parts, world):  # noqa: F811
    s, users = parts, world.users
    round1 = s["round1"]
    score_all(s, round1, COMMUNITIES)
    round_finalise(actor=users["county_officer"], round_=round1)  # K1's part only
    assert county_task(s, "K1").status == TaskStatus.DONE
    assert county_task(s, "K2").status == TaskStatus.OPEN
    round_reopen(actor=users["county_officer"], round_=round1, reason="A1 分数录入错误")
    assert county_task(s, "K1").status == TaskStatus.OPEN
    assert AuditEvent.objects.filter(action="task.followed_work").count() == 2


def test_a_municipal_round_does_not_complete_the_countys_task(parts, world):  # noqa: F811
    s = parts
    round2 = s["campaign"].rounds.get(number=2)
    score_all(s, round2, COMMUNITIES)
    round_finalise(actor=world.users["city_admin"], round_=round2)
    assert county_task(s, "K1").status == TaskStatus.OPEN
    assert not AuditEvent.objects.filter(action="task.followed_work").exists()


def test_it_refuses_to_tick_a_task_that_follows_the_work_by_hand(parts, world):  # noqa: F811
    s = parts
    task = self_assessment_task(s, "C111")
    with translation.override("en"), pytest.raises(ApplicationError, match="follows the work"):
        task_update(actor=world.users["community_staff"], task=task, status=TaskStatus.DONE)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.note == ""
    assert not AuditEvent.objects.filter(action="task.updated").exists()
    # A note is still the unit's to write, with the status as it stands.
    task_update(
        actor=world.users["community_staff"], task=task, status=task.status, note="正在自评"
    )
    task.refresh_from_db()
    assert (task.status, task.note) == (TaskStatus.OPEN, "正在自评")


def test_the_task_pages_say_what_completes_a_task_that_follows_the_work(
    parts,  # noqa: F811
    world,
    client_for,
):
    from django.urls import reverse

    s = parts
    task = self_assessment_task(s, "C111")
    client = client_for(world.users["community_staff"])
    page = client.get(
        reverse("task_update", args=[s["campaign"].slug, task.public_id])
    ).content.decode()
    assert 'data-testid="follows"' in page
    assert 'id="status"' not in page  # no status to pick
    listing = client.get(reverse("task_list", args=[s["campaign"].slug]) + "?show=all")
    assert 'data-testid="follows"' in listing.content.decode()


def test_the_migration_brings_existing_campaigns_in_line(parts, world):  # noqa: F811
    """Campaigns created before tasks followed the work: their tasks are tagged by what they
    are, and their status set from where the work stands, once, audited."""
    s, users = parts, world.users
    move(s, users["community_staff"], ["C111"], State.SELF_ASSESSING)
    self_assess(s, world)
    move(s, users["community_staff"], ["C111"], State.SUBMITTED)
    round1 = s["round1"]
    score_all(s, round1, COMMUNITIES)
    round_finalise(actor=users["county_officer"], round_=round1)  # K1's part
    # As before the change: nothing tagged, nothing done, and a late community ticked by hand.
    ticked = self_assessment_task(s, "C112").pk
    Task.objects.update(follows="", status=TaskStatus.OPEN, done_at=None)
    Task.objects.filter(pk=ticked).update(status=TaskStatus.DONE)
    before = AuditEvent.objects.count()
    migration = importlib.import_module("civicmark.campaigns.migrations.0010_task_follows")
    migration.tag_and_follow(apps, None)
    assert self_assessment_task(s, "C111").status == TaskStatus.DONE
    assert self_assessment_task(s, "C112").status == TaskStatus.OPEN  # not submitted
    assert county_task(s, "K1").status == TaskStatus.DONE
    assert county_task(s, "K2").status == TaskStatus.OPEN
    assert Task.objects.exclude(follows="").count() == 4 + 2  # every community, every county
    assert AuditEvent.objects.count() - before == 3
