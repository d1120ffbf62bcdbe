"""Community staff submit their self-assessment to the town from its own page on a phone
(390x844), and submit it again in one step after the county returned it."""

from __future__ import annotations

import pytest

from civicmark.assessments.services import self_score_save
from civicmark.assessments.workflow import State, return_with_comments
from civicmark.campaigns.models import Enrollment
from tests.browser.test_self_assessment_on_a_phone import PHONE, _phone


@pytest.mark.django_db(transaction=True)
def test_community_staff_submit_and_resubmit_from_the_page_on_a_phone(
    scoring, world, browser, live_server
):
    enrollment = scoring["enrollments"]["C111"]
    Enrollment.objects.filter(pk=enrollment.pk).update(status=State.SELF_ASSESSING)
    enrollment.refresh_from_db()
    for item in scoring["items"].values():
        self_score_save(
            actor=world.users["community_staff"],
            enrollment=enrollment,
            item=item,
            points=item.points,
            explanation="自评",
        )
    context, page = _phone(browser, live_server, "community_staff")
    url = f"{live_server.url}/campaigns/c/self-assessment/?community=C111"
    page.goto(url)
    button = page.locator("[data-testid=submit] button[name=action][value=submit]")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    button.click()
    page.wait_for_selector("[data-testid=submit]", state="detached")  # submitted: gone
    assert Enrollment.objects.get(pk=enrollment.pk).status == State.SUBMITTED
    return_with_comments(
        actor=world.users["county_officer"],
        enrollment=Enrollment.objects.get(pk=enrollment.pk),
        comment="A1 台账不全",
        item_comments={scoring["items"]["A1"]: "缺少会议记录"},
    )
    page.goto(url)
    page.locator("[data-testid=submit] button[value=submit]").click()
    page.wait_for_selector("[data-testid=submit]", state="detached")  # submitted: gone
    assert Enrollment.objects.get(pk=enrollment.pk).status == State.SUBMITTED
    context.close()
