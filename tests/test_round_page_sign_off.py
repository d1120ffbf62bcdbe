"""The round's own page (where the city's "rounds I lead" leads): its lead finalises it there,
after ticking that he has checked it, and reopens it with a reason; a refusal names who still
has items to score; a community the lead added by hand is never labelled "by default"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from civicmark.core.models import AuditEvent
from tests.test_workflow import pass_round

URL = reverse("round_detail", args=["c", 2])


@pytest.fixture
def city(world, client_for, settings):  # noqa: ANN001, ANN201
    client = client_for(world.users["city_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def fresh(round_):  # noqa: ANN001, ANN201
    round_.refresh_from_db()
    return round_


def test_the_round_page_offers_the_lead_its_finalise_with_a_confirmation(scoring, city):
    page = city.get(URL).content.decode()
    assert 'data-testid="round-finalise"' in page and 'name="confirm"' in page
    assert "I have checked the round" in page


def test_finalising_without_the_confirmation_changes_nothing(scoring, city):
    round_ = scoring["round"]
    round_.covers.set([scoring["enrollments"]["C111"]])
    pass_round(scoring, 2, "C111")
    before = AuditEvent.objects.count()
    response = city.post(URL, {"action": "finalise"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="sign-off-error"' in page and "Tick “I have checked the round”" in page
    assert fresh(round_).finalised_at is None and AuditEvent.objects.count() == before


def test_a_refused_finalise_names_the_departments_and_assessors_still_to_score(scoring, city):
    round_ = scoring["round"]
    pass_round(scoring, 2, "C111")  # the others covered are unscored
    before = AuditEvent.objects.count()
    response = city.post(URL, {"action": "finalise", "confirm": "1"})
    page = response.content.decode()
    assert response.status_code == 422
    assert "Items are still unscored for:" in page and "Community 112" in page
    assert "Still to score by:" in page
    # The departments of the standard's items, each with the panel's assessors who score it.
    departments = {i.department.name for i in scoring["items"].values()}
    for name in departments:
        assert re.search(re.escape(name) + r" \(\d+: ", page), name
    assert "fp0" in page
    assert "checked" in page.split('id="sign-off-confirm"')[1].split(">")[0]  # kept ticked
    assert fresh(round_).finalised_at is None and AuditEvent.objects.count() == before


def test_the_lead_finalises_and_reopens_the_round_on_its_page(scoring, city, world, client_for):
    round_ = scoring["round"]
    round_.covers.set([scoring["enrollments"]["C111"]])
    pass_round(scoring, 2, "C111")
    response = city.post(URL, {"action": "finalise", "confirm": "1"})
    assert response.status_code == 302
    assert fresh(round_).finalised_at is not None
    assert AuditEvent.objects.filter(action="round.finalised").count() == 1
    page = city.get(URL).content.decode()
    assert 'data-testid="round-reopen"' in page and 'data-testid="round-finalise"' not in page
    # Reopening asks a reason; without one nothing changes and the error sits beside the box.
    refused = city.post(URL, {"action": "reopen", "reason": "  "})
    assert refused.status_code == 422
    assert 'id="reason-round-error"' in refused.content.decode()
    assert fresh(round_).finalised_at is not None
    city.post(URL, {"action": "reopen", "reason": "A1 分数录入错误"})
    assert fresh(round_).finalised_at is None
    assert AuditEvent.objects.filter(action="round.reopened").count() == 1


def test_who_does_not_lead_the_round_sees_no_sign_off_and_cannot_post_one(
    scoring, world, client_for
):
    round_ = scoring["round"]
    round_.covers.set([scoring["enrollments"]["C111"]])
    pass_round(scoring, 2, "C111")
    county = client_for(world.users["county_officer"])
    response = county.get(URL)
    assert 'data-testid="round-finalise"' not in response.content.decode()
    county.post(URL, {"action": "finalise", "confirm": "1"})
    assert fresh(round_).finalised_at is None


def test_a_community_added_by_hand_is_not_labelled_by_default_once_scored(scoring, city):
    round_ = scoring["round"]
    round_.covers.set([scoring["enrollments"]["C111"], scoring["enrollments"]["C112"]])
    pass_round(scoring, 2, "C111")  # scored: the default rule alone would bring it in
    page = city.get(URL).content.decode()
    row = page.split(">Community 111</label>")[1].split("</tr>")[0]
    assert 'data-testid="cover-added"' in row and 'data-testid="cover-default"' not in row
