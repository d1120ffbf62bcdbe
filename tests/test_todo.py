"""Issue 16 items 1 and 6: every role's to-do list on the home page, the menu to each role's
work, only the steps a person can take, and no forms for those who only read."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.assessments import todo as acceptance_todo
from civicmark.assessments.models import Rectification
from civicmark.assessments.services import self_score_save
from civicmark.assessments.workflow import State, return_with_comments, transition_apply, why_not
from civicmark.campaigns import todo as plan_todo
from civicmark.campaigns.models import Enrollment, MeetingKind, Task, TaskStatus
from civicmark.campaigns.services import meeting_create
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score
from tests.factories import division

TODAY = date(2026, 7, 15)  # rounds 1 and 2 of the plan open, round 3 not yet


def todos(user, s, today=TODAY):  # noqa: ANN001, ANN201
    """The person's to-dos, in English: the wording asserted is the English one, whatever the
    Chinese catalogue (the default language) translates."""
    campaign = s["campaign"]
    with translation.override("en"):
        found = acceptance_todo.todos_for(user=user, campaign=campaign, today=today)
        found += plan_todo.todos_for(user=user, campaign=campaign, today=today)
    return {t.key: t for t in found}


def set_status(s, code, state):  # noqa: ANN001, ANN201
    Enrollment.objects.filter(pk=s["enrollments"][code].pk).update(status=state)
    return Enrollment.objects.select_related("community", "campaign").get(
        pk=s["enrollments"][code].pk
    )


def score_all_but(s, world, code="C111", missing=1):  # noqa: ANN001, ANN201
    items = list(s["items"].values())
    for item in items[: len(items) - missing]:
        self_score_save(
            actor=world.users["community_staff"],
            enrollment=s["enrollments"][code],
            item=item,
            points=item.points,
            explanation="自评",
        )


# -- community staff ---------------------------------------------------------------------------


def test_it_shows_community_staff_the_self_assessment_to_finish(scoring, world):
    s = scoring
    set_status(s, "C111", State.SELF_ASSESSING)
    score_all_but(s, world, missing=1)
    mine = todos(world.users["community_staff"], s)
    entry = mine["self_assessment"]
    assert entry.count == 1
    assert "3 of 4" in entry.detail
    assert entry.url == reverse("self_assessment", args=["c"]) + "?community=C111"
    assert entry.lines == ()
    score_all_but(s, world, missing=0)
    ready = todos(world.users["community_staff"], s)["self_assessment"]
    assert ready.count == 0
    # The ready line leads to the self-assessment page, which carries "Submit to the town".
    assert [line.url for line in ready.lines] == [
        reverse("self_assessment", args=["c"]) + "?community=C111"
    ]
    # Another community's staff see their own, not this one.
    other = todos(world.users["other_staff"], s)["self_assessment"]
    assert "C211" in other.url and other.count == 4


def test_it_shows_the_items_the_town_returned_with_their_comments(scoring, world):
    s = scoring
    set_status(s, "C111", State.SELF_ASSESSING)
    score_all_but(s, world, missing=0)
    transition_apply(
        actor=world.users["community_staff"],
        campaign=s["campaign"],
        enrollments=[s["enrollments"]["C111"]],
        to=State.SUBMITTED,
    )
    return_with_comments(
        actor=world.users["town_officer"],
        enrollment=Enrollment.objects.get(pk=s["enrollments"]["C111"].pk),
        comment="补充台账",
        item_comments={s["items"]["A2"]: "缺少巡逻记录", s["items"]["B1"]: ""},
    )
    entry = todos(world.users["community_staff"], s)["returned"]
    assert entry.count == 1 and entry.detail == "补充台账" and entry.late
    assert [(line.text.split()[0], line.note) for line in entry.lines] == [("A2", "缺少巡逻记录")]
    # Every item is scored: the returned items are the work, not a "0 left" self-assessment.
    assert "self_assessment" not in todos(world.users["community_staff"], s)


def test_it_lists_rectifications_due_the_overdue_first(scoring, world):
    s = scoring
    e = s["enrollments"]["C111"]
    for code, due in (("B1", TODAY + timedelta(days=9)), ("A1", TODAY - timedelta(days=3))):
        Rectification.objects.create(
            round=s["round"], enrollment=e, item=s["items"][code], reason="r", due_on=due
        )
    Rectification.objects.create(
        round=s["round"], enrollment=e, item=s["items"]["A2"], reason="r", status="done"
    )
    entry = todos(world.users["community_staff"], s)["rectifications"]
    assert entry.count == 2 and entry.late
    assert [(line.text.split()[0], line.late) for line in entry.lines] == [
        ("A1", True),
        ("B1", False),
    ]
    assert "rectifications" not in todos(world.users["other_staff"], s)


def test_it_lists_the_communitys_own_tasks_the_late_first(scoring, world):
    s = scoring
    mine = todos(world.users["community_staff"], s)["tasks"]
    open_tasks = Task.objects.filter(division=world.d["C111"]).exclude(status=TaskStatus.DONE)
    assert mine.count == open_tasks.count() > 0
    lates = [line.late for line in mine.lines]
    assert lates == sorted(lates, reverse=True)  # every late one before every other


# -- town --------------------------------------------------------------------------------------


def test_it_shows_the_town_its_submissions_to_review_and_overdue_tasks_by_community(scoring, world):
    s = scoring
    set_status(s, "C111", State.SUBMITTED)
    set_status(s, "C121", State.SUBMITTED)  # another town's
    mine = todos(world.users["town_officer"], s)
    assert mine["to_review"].count == 1
    assert [line.text for line in mine["to_review"].lines] == ["Community 111"]
    assert mine["to_review"].url.endswith("?state=submitted")
    overdue = mine["overdue_tasks"]
    assert {line.text for line in overdue.lines} <= {"Town 11", "Community 111", "Community 112"}
    assert overdue.count == sum(int(line.note) for line in overdue.lines)
    # Community staff do not review their own submission.
    assert "to_review" not in todos(world.users["community_staff"], s)


# -- county and city ---------------------------------------------------------------------------


def test_it_shows_the_county_what_to_pre_accept_and_report_and_overdue_rectifications(
    scoring, world
):
    s = scoring
    set_status(s, "C111", State.TOWN_REVIEWED)
    set_status(s, "C112", State.COUNTY_PRE_ACCEPTED)
    set_status(s, "C211", State.TOWN_REVIEWED)  # the other county's
    Rectification.objects.create(
        round=s["round"],
        enrollment=s["enrollments"]["C112"],
        item=s["items"]["A1"],
        reason="r",
        due_on=TODAY - timedelta(days=1),
    )
    mine = todos(world.users["county_officer"], s)
    assert mine["to_pre_accept"].count == 1
    assert mine["to_report"].count == 1
    assert mine["overdue_rectifications"].count == 1
    assert "to_pre_accept" not in todos(world.users["other_county_officer"], s) or (
        todos(world.users["other_county_officer"], s)["to_pre_accept"].count == 1
    )


def test_it_shows_the_city_the_rounds_to_lead_and_the_disagreements_to_settle(scoring, world):
    s = scoring
    a, b = s["assessors"][:2]
    for assessor, points in ((a, "30"), (b, "10")):
        Score.objects.create(
            round=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            assessor=assessor,
            points=Decimal(points),
            reason="r",
        )
    mine = todos(world.users["city_admin"], s)
    assert s["round"].name in [line.text for line in mine["rounds_to_lead"].lines]
    assert mine["disagreements"].count == 1
    assert mine["disagreements"].url == reverse("round_disagreements", args=["c", 2])
    assert "disagreements" not in todos(world.users["county_officer"], s)  # not his round


# -- assessors ---------------------------------------------------------------------------------


def test_it_shows_an_assessor_the_communities_and_items_left_in_each_open_round(scoring, world):
    s = scoring
    assessor = s["assessors"][0]
    Score.objects.create(
        round=s["round"],
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        assessor=assessor,
        points=Decimal(30),
        reason="r",
    )
    with translation.override("en"):
        found = acceptance_todo.todos_for(user=assessor, campaign=s["campaign"], today=TODAY)
    entries = [t for t in found if t.key == "to_score"]
    round2 = next(t for t in entries if t.url == reverse("score_home", args=["c", 2]))
    # Four communities, four items each (his two departments score all four): one scored.
    assert round2.count == 4
    assert "15 items left" in round2.detail
    # A round not yet open is no to-do.
    assert all(t.url != reverse("score_home", args=["c", 3]) for t in entries)


# -- viewers -----------------------------------------------------------------------------------


def test_it_gives_a_viewer_the_campaign_at_a_glance_within_his_scope(scoring, world):
    s = scoring
    set_status(s, "C111", State.STANDARD_UNIT)
    set_status(s, "C211", State.VETOED)  # outside the viewer's county
    with translation.override("en"):
        figures = {
            f.label: f.value
            for f in acceptance_todo.figures_for(
                user=world.users["viewer"], campaign=s["campaign"], today=TODAY
            )
        }
    assert figures["Communities enrolled"] == 3
    assert figures["Standard units"] == 1 and figures["Pre-accepted by the county"] == 1
    assert figures["Vetoed"] == 0
    assert todos(world.users["viewer"], s) == {}


# -- the page ----------------------------------------------------------------------------------


def _rounds_open_now(s):  # noqa: ANN001, ANN202
    """Rounds 1 and 2 open today, whatever day the tests run."""
    today = timezone.localdate()
    s["campaign"].rounds.filter(number__in=(1, 2)).update(
        opens_on=today - timedelta(days=3), closes_on=today + timedelta(days=5)
    )


@pytest.mark.parametrize(
    ("persona", "key"),
    [
        ("community_staff", "self_assessment"),
        ("town_officer", "to_review"),
        ("county_officer", "to_pre_accept"),
        ("city_admin", "rounds_to_lead"),
    ],
)
def test_it_shows_each_role_its_to_do_on_the_home_page(scoring, world, client_for, persona, key):
    s = scoring
    _rounds_open_now(s)
    set_status(s, "C111", State.SUBMITTED if persona == "town_officer" else State.SELF_ASSESSING)
    if persona == "county_officer":
        set_status(s, "C112", State.TOWN_REVIEWED)
    page = client_for(world.users[persona]).get("/").content.decode()
    assert f'data-todo="{key}"' in page


def test_it_shows_an_assessor_scoring_on_the_home_page_and_in_the_menu(scoring, world, client_for):
    s = scoring
    _rounds_open_now(s)
    page = client_for(s["assessors"][0]).get("/").content.decode()
    score_home = reverse("score_home", args=["c", 2])
    assert 'data-todo="to_score"' in page
    assert f'href="{score_home}" data-testid="work-nav"' in page


def test_it_shows_the_viewer_figures_and_no_to_do(scoring, world, client_for):
    page = client_for(world.users["viewer"]).get("/").content.decode()
    assert 'data-testid="figures"' in page and "data-todo=" not in page


def test_it_bounds_the_home_pages_queries_for_a_city_user_however_many_communities(
    scoring, world, client_for, django_assert_max_num_queries
):
    s = scoring
    _rounds_open_now(s)
    city = client_for(world.users["city_admin"])
    with django_assert_max_num_queries(30) as few:  # 17 when written
        city.get("/")
    # Forty more communities, in every state a to-do reads, each with an overdue task and an
    # overdue rectification: the page asks no more of the database.
    town = world.d["T11"]
    states = [State.SUBMITTED, State.TOWN_REVIEWED, State.COUNTY_PRE_ACCEPTED, State.RETURNED]
    for n in range(40):
        community = division(f"X{n}", f"Extra {n}", "community", town)
        e = Enrollment.objects.create(
            campaign=s["campaign"], community=community, status=states[n % 4]
        )
        Task.objects.create(
            campaign=s["campaign"],
            phase=s["campaign"].phases.first(),
            division=community,
            title="t",
            due_on=date(2026, 1, 1),
        )
        Rectification.objects.create(
            round=s["round"],
            enrollment=e,
            item=s["items"]["A1"],
            reason="r",
            due_on=date(2026, 1, 1),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = city.get("/").content.decode()
    assert 'data-todo="overdue_tasks"' in page


# -- the self-assessment from the menu (the 404 finding) ----------------------------------------


def test_it_opens_community_staffs_own_self_assessment_without_naming_it(
    scoring, world, client_for
):
    url = reverse("self_assessment", args=["c"])
    staff = client_for(world.users["community_staff"])
    response = staff.get(url)
    assert response.status_code == 200  # was 404: the page needed ?community=
    assert response.context["enrollment"].community.code == "C111"
    assert f'href="{url}" data-testid="work-nav"' in staff.get("/").content.decode()
    # Whoever sees several communities chooses one from the campaign's list.
    town = client_for(world.users["town_officer"]).get(url)
    assert town.status_code == 302 and town.url == reverse("communities", args=["c"])


# -- only possible steps, with the reason for the others (item 6) ------------------------------


def test_it_offers_community_staff_only_the_steps_they_can_take(scoring, world, client_for):
    s = scoring
    set_status(s, "C111", State.SUBMITTED)
    page = (
        client_for(world.users["community_staff"])
        .get(reverse("communities", args=["c"]))
        .content.decode()
    )
    menu = page.split('id="to"')[1].split("</select>")[0] if 'id="to"' in page else ""
    assert 'value="town_reviewed"' not in menu  # was offered, and refused after submitting
    with translation.override("zh-hans"):
        label = str(State.TOWN_REVIEWED.label)
    reasons = page.split('data-testid="steps-not-yours"')[1]
    assert label in reasons  # named, with the reason, beside the menu


def test_it_says_why_a_step_cannot_be_taken_with_the_services_own_rule(scoring, world):
    s = scoring
    e = set_status(s, "C111", State.SELF_ASSESSING)
    staff, town = world.users["community_staff"], world.users["town_officer"]
    with translation.override("en"):
        assert "4 items still to score" in why_not(staff, e, State.SUBMITTED)
        assert why_not(town, e, State.SUBMITTED) == "your role may not make this step here"
        assert "cannot go from" in why_not(staff, e, State.REPORTED)
    score_all_but(s, world, missing=0)
    assert why_not(staff, e, State.SUBMITTED) is None
    transition_apply(actor=staff, campaign=s["campaign"], enrollments=[e], to=State.SUBMITTED)


POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>", re.IGNORECASE)
# The two forms every page has: the language switch and signing out. A download the viewer asks
# for (a round's summary, made in the background) is a request for a file, not a change.
ALLOWED = ("/i18n/setlang/", "/accounts/logout/", "/export/")


def test_it_shows_the_read_only_viewer_no_forms(scoring, world, client_for):
    s = scoring
    _rounds_open_now(s)
    set_status(s, "C111", State.STANDARD_UNIT)
    set_status(s, "C112", State.PROPOSED)
    Rectification.objects.create(
        round=s["round"], enrollment=s["enrollments"]["C111"], item=s["items"]["A1"], reason="r"
    )
    meeting = meeting_create(
        actor=None,
        campaign=s["campaign"],
        kind=MeetingKind.TRAINING,
        title="培训",
        held_on=TODAY,
        host=world.d["K1"],
        place="县委党校",
        agenda="",
        expected=[(world.d["C111"], "主任")],
    )
    task = Task.objects.filter(division=world.d["C111"]).first()
    viewer = client_for(world.users["viewer"])
    pages = [
        reverse("meeting_detail", args=["c", meeting.public_id]),
        reverse("task_update", args=["c", task.public_id]),
        "/",
        reverse("campaign_overview", args=["c"]),
        reverse("task_list", args=["c"]),
        reverse("communities", args=["c"]),
        reverse("rectifications", args=["c"]),
        reverse("commendation", args=["c"]),
        reverse("meeting_list", args=["c"]),
        reverse("round_detail", args=["c", 2]),
        reverse("self_assessment", args=["c"]) + "?community=C111",
        reverse("ranking", args=["c", 2]),
    ]
    for url in pages:
        response = viewer.get(url)
        assert response.status_code == 200, url
        forms = [
            f
            for f in POST_FORM.findall(response.content.decode())
            if not any(allowed in f for allowed in ALLOWED)
        ]
        assert forms == [], url
    before = (Rectification.objects.filter(status="open").count(), AuditEvent.objects.count())
    viewer.post(
        reverse("rectifications", args=["c"]),
        {"id": str(Rectification.objects.get().public_id), "status": "done", "note": "x"},
    )
    assert (
        Rectification.objects.filter(status="open").count(),
        AuditEvent.objects.count(),
    ) == before
