"""A resident answers the survey from the link on his door card, on a phone-sized screen."""

from __future__ import annotations

import pytest

from civicmark.surveys import services as svc
from civicmark.surveys.models import Response
from tests.test_surveys import survey  # noqa: F401  (the fixture)


@pytest.mark.django_db(transaction=True)
def test_a_resident_answers_from_his_door_card_on_a_phone(survey, world, browser, live_server):  # noqa: F811
    draw = svc.draw_households(
        actor=world.users["city_admin"], survey=survey["survey"], community=world.d["C111"]
    )
    code = draw.households.filter(in_sample=True).order_by("position").first().code
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{code}/")
    assert page.locator("[data-testid=question]").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Tapping an answer's label selects it: large targets on a phone.
    page.locator("[data-testid=question]").nth(1).locator("label", has_text="很满意").click()
    page.locator("[data-testid=question]").nth(0).locator("label", has_text="基本满意").click()
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=thanks]")
    response = Response.objects.get()
    assert response.answers == {"Q1": "3", "Q2": "5"} and response.mode == "door_card"
    # The same card again: refused, nothing more stored.
    page.goto(f"{live_server.url}/s/{code}/")
    page.wait_for_selector("[data-testid=code-refused]")
    assert Response.objects.count() == 1
    context.close()
