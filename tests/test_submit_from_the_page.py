"""The walk of the demo as its officials (fix_flow): the community submits from its own
self-assessment page, a returned one is resubmitted in one step, a returned item says who
returned it, and a submission whose town has no reviewer waits in the county's to-do."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from civicmark.accounts.models import RoleAssignment
from civicmark.assessments import todo as acceptance_todo
from civicmark.assessments.models import Transition
from civicmark.assessments.services import self_score_save
from civicmark.assessments.workflow import State, return_with_comments, transition_apply
from civicmark.campaigns.models import Enrollment
from civicmark.core.models import AuditEvent

PAGE = reverse("self_assessment", args=["c"]) + "?community=C111"


@pytest.fixture
def english(client_for, settings):  # noqa: ANN001, ANN201
    def sign_in(user):  # noqa: ANN001, ANN202
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


def enrollment_at(scoring, state, code="C111"):  # noqa: ANN001, ANN201
    Enrollment.objects.filter(pk=scoring["enrollments"][code].pk).update(status=state)
    return Enrollment.objects.select_related("community", "campaign").get(
        pk=scoring["enrollments"][code].pk
    )


def score_everything(scoring, world, missing=0):  # noqa: ANN001, ANN201
    items = list(scoring["items"].values())
    for item in items[: len(items) - missing]:
        self_score_save(
            actor=world.users["community_staff"],
            enrollment=scoring["enrollments"]["C111"],
            item=item,
            points=item.points,
            explanation="自评",
        )


def post_submit(client):  # noqa: ANN001, ANN201
    return client.post(
        reverse("self_assessment", args=["c"]),
        {"community": "C111", "action": "submit"},
        follow=True,
    )


# -- 1. Submit to the town, on the self-assessment page -------------------------------------------


def test_the_community_submits_from_its_self_assessment_page(scoring, world, english):
    enrollment = enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)
    staff = english(world.users["community_staff"])
    page = staff.get(PAGE).content.decode()
    assert 'data-testid="submit"' in page and "Submit to the town" in page
    assert 'data-testid="submit-refusal"' not in page
    page = post_submit(staff).content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == State.SUBMITTED
    assert "Submitted to the town." in page
    step = Transition.objects.get(enrollment=enrollment)
    assert (step.from_status, step.to_status) == (State.SELF_ASSESSING, State.SUBMITTED)
    assert AuditEvent.objects.filter(action="workflow.transition").count() == 1
    # Submitted, the page offers no second submission.
    assert 'data-testid="submit"' not in staff.get(PAGE).content.decode()


def test_the_page_says_why_it_cannot_be_submitted_and_a_post_changes_nothing(
    scoring, world, english
):
    enrollment = enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world, missing=1)
    staff = english(world.users["community_staff"])
    page = staff.get(PAGE).content.decode()
    assert 'data-testid="submit-refusal"' in page
    assert "1 of 4 items still to score" in page
    before = AuditEvent.objects.count()
    response = staff.post(
        reverse("self_assessment", args=["c"]), {"community": "C111", "action": "submit"}
    )
    assert response.status_code == 422
    assert "Not submitted:" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == State.SELF_ASSESSING
    assert AuditEvent.objects.count() == before and not Transition.objects.exists()


def test_a_blocking_campaign_refuses_the_page_submission_without_evidence(scoring, world, english):
    type(scoring["campaign"]).objects.filter(pk=scoring["campaign"].pk).update(
        missing_evidence="block"
    )
    scoring["standard"].items.filter(code="A1").update(evidence="台账")
    enrollment = enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)
    staff = english(world.users["community_staff"])
    page = staff.get(PAGE).content.decode()
    assert "accepts no submission without it: A1" in page
    post_submit(staff)
    enrollment.refresh_from_db()
    assert enrollment.status == State.SELF_ASSESSING


def test_a_warning_campaign_submits_and_lists_the_items_without_evidence(scoring, world, english):
    scoring["standard"].items.filter(code="A1").update(evidence="台账")
    enrollment = enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)
    staff = english(world.users["community_staff"])
    page = post_submit(staff).content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == State.SUBMITTED
    assert "submitted with 1 items without evidence: A1" in page


@pytest.mark.parametrize("persona", ["town_officer", "county_officer", "city_admin"])
def test_reviewers_are_not_told_they_can_submit(scoring, world, english, persona):
    scoring["standard"].items.filter(code="A1").update(evidence="台账")
    enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)  # scored while self-assessing, then submitted
    enrollment_at(scoring, State.SUBMITTED)
    page = english(world.users[persona]).get(PAGE).content.decode()
    assert "Items still without evidence:" in page
    assert "It can still be submitted" not in page and "can be submitted" not in page
    assert 'data-testid="submit"' not in page
    # A town officer cannot submit by posting the action either.
    before = AuditEvent.objects.count()
    english(world.users[persona]).post(
        reverse("self_assessment", args=["c"]), {"community": "C111", "action": "submit"}
    )
    assert Enrollment.objects.get(pk=scoring["enrollments"]["C111"].pk).status == State.SUBMITTED
    assert AuditEvent.objects.count() == before


def test_a_signed_off_community_is_not_told_it_can_still_submit(scoring, world, english):
    scoring["standard"].items.filter(code="A1").update(evidence="台账")
    enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)
    enrollment_at(scoring, State.STANDARD_UNIT)
    page = english(world.users["community_staff"]).get(PAGE).content.decode()
    assert "It can still be submitted" not in page and "can be submitted" not in page
    assert 'data-testid="submit"' not in page


# -- 2. A returned self-assessment is resubmitted in one step --------------------------------------


def returned(scoring, world):  # noqa: ANN001, ANN201
    enrollment = enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)
    transition_apply(
        actor=world.users["community_staff"],
        campaign=scoring["campaign"],
        enrollments=[enrollment],
        to=State.SUBMITTED,
    )
    return_with_comments(
        actor=world.users["county_officer"],
        enrollment=enrollment,
        comment="A1 台账不全",
        item_comments={scoring["items"]["A1"]: "缺少会议记录"},
    )
    enrollment.refresh_from_db()
    assert enrollment.status == State.RETURNED
    return enrollment


def test_a_returned_self_assessment_is_resubmitted_in_one_step(scoring, world):
    enrollment = returned(scoring, world)
    transition_apply(
        actor=world.users["community_staff"],
        campaign=scoring["campaign"],
        enrollments=[enrollment],
        to=State.SUBMITTED,
    )
    enrollment.refresh_from_db()
    assert enrollment.status == State.SUBMITTED
    last = Transition.objects.filter(enrollment=enrollment).latest("at", "id")
    assert (last.from_status, last.to_status) == (State.RETURNED, State.SUBMITTED)


def test_a_returned_self_assessment_is_resubmitted_from_the_page(scoring, world, english):
    enrollment = returned(scoring, world)
    staff = english(world.users["community_staff"])
    assert 'data-testid="submit-refusal"' not in staff.get(PAGE).content.decode()
    post_submit(staff)
    enrollment.refresh_from_db()
    assert enrollment.status == State.SUBMITTED


def test_only_the_community_resubmits_and_the_same_guards_apply(scoring, world):
    from civicmark.assessments.workflow import TransitionRefused

    enrollment = returned(scoring, world)
    for persona in ("town_officer", "county_officer"):
        with pytest.raises(TransitionRefused):
            transition_apply(
                actor=world.users[persona],
                campaign=scoring["campaign"],
                enrollments=[enrollment],
                to=State.SUBMITTED,
            )
    # A returned self-assessment with an item taken back is refused as a first submission is.
    from civicmark.assessments.models import SelfScore

    SelfScore.objects.filter(enrollment=enrollment, item__code="B1").delete()
    with pytest.raises(TransitionRefused):
        transition_apply(
            actor=world.users["community_staff"],
            campaign=scoring["campaign"],
            enrollments=[enrollment],
            to=State.SUBMITTED,
        )
    enrollment.refresh_from_db()
    assert enrollment.status == State.RETURNED


# -- 3. A returned item says who returned it -------------------------------------------------------


def test_a_returned_item_names_the_county_that_returned_it(scoring, world, english):
    returned(scoring, world)
    page = english(world.users["community_staff"]).get(PAGE).content.decode()
    assert "Returned by the town" not in page
    assert "Returned by county_officer (County officer), to change:" in page


def test_a_returned_item_names_the_town_that_returned_it(scoring, world, english):
    enrollment = enrollment_at(scoring, State.SELF_ASSESSING)
    score_everything(scoring, world)
    transition_apply(
        actor=world.users["community_staff"],
        campaign=scoring["campaign"],
        enrollments=[enrollment],
        to=State.SUBMITTED,
    )
    return_with_comments(
        actor=world.users["town_officer"],
        enrollment=enrollment,
        comment="",
        item_comments={scoring["items"]["A1"]: "缺少会议记录"},
    )
    page = english(world.users["community_staff"]).get(PAGE).content.decode()
    assert "Returned by town_officer (Town officer), to change:" in page


# -- 5. A town with no reviewer: the county sees the submission waiting ----------------------------


def county_todo(scoring, world):  # noqa: ANN001, ANN201
    with translation.override("en"):
        found = acceptance_todo.todos_for(
            user=world.users["county_officer"],
            campaign=scoring["campaign"],
            today=date(2026, 7, 15),
        )
    return {t.key: t for t in found}


def test_the_county_sees_a_submission_whose_town_has_no_reviewer(scoring, world):
    enrollment_at(scoring, State.SUBMITTED, "C111")
    enrollment_at(scoring, State.SUBMITTED, "C121")  # its town (T12) has its officer
    # The town officer of T11 still serves: the town reviews, the county sees nothing to review.
    assert "to_review" not in county_todo(scoring, world)
    RoleAssignment.objects.filter(user=world.users["town_officer"], role="town_officer").delete()
    world.users["town_officer"].__dict__.pop("_civicmark_grants", None)
    mine = county_todo(scoring, world)
    assert [line.text for line in mine["to_review"].lines] == ["Community 111"]
    # Another county's officer does not see it.
    with translation.override("en"):
        other = acceptance_todo.todos_for(
            user=world.users["other_county_officer"],
            campaign=scoring["campaign"],
            today=date(2026, 7, 15),
        )
    assert "to_review" not in {t.key for t in other}


def test_an_inactive_town_officer_reviews_nothing_so_the_county_sees_it(scoring, world):
    enrollment_at(scoring, State.SUBMITTED, "C111")
    type(world.users["town_officer"]).objects.filter(pk=world.users["town_officer"].pk).update(
        is_active=False
    )
    assert [line.text for line in county_todo(scoring, world)["to_review"].lines] == [
        "Community 111"
    ]
