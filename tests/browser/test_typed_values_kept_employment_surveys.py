"""Issue 16 item 3 in chromium, for the employment and survey forms: a person types, the server
refuses, and every typed value is still in its box (and the error is on the page); at 1366x900,
and the ledger's resident form on a phone at 390x844, where the form must fit the screen."""

# ruff: noqa: F811  (pytest fixtures imported from their modules, then named as arguments)
from __future__ import annotations

import datetime as dt

import pytest

from civicmark.employment import services as svc
from civicmark.employment.models import FairAttendance, Resident, StatusPeriod
from civicmark.scoring.models import Score
from civicmark.surveys.models import Draw, Response
from tests.test_employment import station  # noqa: F401  (the fixture)
from tests.test_surveys import _answer_all, survey  # noqa: F401  (the fixture)

DESKTOP = {"width": 1366, "height": 900}


def _kept(page, boxes: dict[str, str]) -> None:  # noqa: ANN001
    for selector, typed in boxes.items():
        assert page.input_value(selector) == typed, selector


def _type(page, boxes: dict[str, str]) -> None:  # noqa: ANN001
    for selector, typed in boxes.items():
        page.fill(selector, typed)


@pytest.mark.django_db(transaction=True)
def test_the_ledger_resident_and_fair_forms_keep_what_was_typed(
    station, world, sign_in, live_server
):
    fair = svc.fair_create(
        actor=station["staff"],
        division=world.d["C111"],
        title="春风行动",
        held_on=dt.date(2026, 3, 1),
    )
    page = sign_in("community_staff")
    page.set_viewport_size(DESKTOP)
    residents = Resident.objects.count()

    # The ledger: a household already there.
    page.goto(f"{live_server.url}/employment/C111/")
    page.fill("#id_address", "幸福小区3栋2单元501")
    page.click("[data-testid=household-form] button")
    page.wait_for_selector("[data-testid=household-form] .text-danger, .alert-danger")
    _kept(page, {"#id_address": "幸福小区3栋2单元501"})

    # The ledger: a resident of a household typed wrong.
    resident = {
        "#id_household": "幸福小区9栋",
        "#id_name": "赵小红",
        "#id_id_number": "110101199003078515",
        "#id_phone": "13800001111",
    }
    _type(page, resident)
    page.uncheck("#id_able_to_work")
    page.click("[data-testid=resident-form] button")
    page.wait_for_selector("[data-testid=resident-form] .text-danger")
    _kept(page, resident)
    assert not page.is_checked("#id_able_to_work")
    assert Resident.objects.count() == residents

    # A resident's status: registered unemployed needs its registration, refused as a whole.
    page.goto(f"{live_server.url}/employment/residents/{station['father'].public_id}/")
    page.select_option("#status_status", "registered_unemployed")
    status = {"#status_start": "2026-03-02", "#status_employer": "幸福物业服务有限公司"}
    _type(page, status)
    page.click("[data-testid=status-form] button")
    page.wait_for_selector("[data-testid=status-form] .alert-danger")
    _kept(page, status)
    assert page.input_value("#status_status") == "registered_unemployed"
    assert not StatusPeriod.objects.exists()

    # A fair: posts offered in words, then a resident nobody is named.
    page.goto(f"{live_server.url}/employment/fairs/{fair.public_id}/")
    page.fill("#id_posts", "三")
    page.click("[data-testid=fair-employer-form] button")
    page.wait_for_selector("[data-testid=fair-employer-form] .text-danger")
    _kept(page, {"#id_posts": "三"})
    page.fill("#id_resident", "李秀")  # part of a name: a hint, not a choice
    page.click("[data-testid=check-in-form] button")
    page.wait_for_selector("[data-testid=check-in-form] .text-danger")
    _kept(page, {"#id_resident": "李秀"})
    assert "李秀英" in page.inner_text("[data-testid=check-in-form]")
    page.fill("#id_resident", "李秀英")
    page.click("[data-testid=check-in-form] button")
    page.wait_for_selector("[data-testid=fair-figures]")
    assert FairAttendance.objects.get().resident == station["mother"]


@pytest.mark.django_db(transaction=True)
def test_the_ledgers_resident_form_keeps_what_was_typed_on_a_phone(
    station, world, sign_in, live_server
):
    page = sign_in("community_staff")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/employment/C111/")
    resident = {
        "#id_household": "幸福小区3栋2单元501",
        "#id_name": "赵小红",
        "#id_id_number": "1101011990",  # too short
        "#id_phone": "13800001111",
    }
    _type(page, resident)
    page.click("[data-testid=resident-form] button")
    page.wait_for_selector("[data-testid=resident-form] .alert-danger")
    _kept(page, resident)
    assert Resident.objects.filter(name="赵小红").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.django_db(transaction=True)
def test_the_survey_forms_keep_what_was_typed(survey, scoring, world, sign_in, live_server):
    page = sign_in("city_admin")
    page.set_viewport_size(DESKTOP)
    s = survey["survey"]

    # The draw: a community by a name nobody has, then by its name.
    page.goto(f"{live_server.url}/surveys/{s.public_id}/")
    page.fill("#id_community", "Nowhere Lane")
    page.click("[data-testid=draw-form] button")
    page.wait_for_selector("[data-testid=draw-form] .text-danger")
    _kept(page, {"#id_community": "Nowhere Lane"})
    assert not Draw.objects.exists()
    page.fill("#id_community", "Community 111")
    page.click("[data-testid=draw-form] button")
    page.wait_for_selector("[data-testid=survey-communities] a[href$='/results/']")
    draw = Draw.objects.get()

    # Entry: a code nobody drew, the answers chosen.
    page.goto(f"{live_server.url}/surveys/{s.public_id}/enter/")
    page.fill("#id_code", "ZZZZ9999")
    page.select_option("#id_collector", "assessment_team")
    page.check("#e-Q1-4")
    page.check("#e-Q2-5")
    page.click("[data-testid=entry-form] button.btn-primary")
    page.wait_for_selector("[data-testid=entry-form] .alert-danger")
    _kept(page, {"#id_code": "ZZZZ9999"})
    assert page.input_value("#id_collector") == "assessment_team"
    assert page.is_checked("#e-Q1-4") and page.is_checked("#e-Q2-5")
    assert not Response.objects.exists()

    # Points: more places than the item takes.
    _answer_all(draw, 9, 3)
    scores = Score.objects.count()
    page.context.clear_cookies()
    assessor = sign_in(scoring["assessors"][0].username)
    assessor.goto(f"{live_server.url}/surveys/{s.public_id}/C111/results/")
    points = {
        "[data-testid=survey-item] input[name=points]": "12.25",
        "[data-testid=survey-item] input[name=reason]": "入户核实后调整",
    }
    _type(assessor, points)
    assessor.click("[data-testid=survey-item] button.btn-success")
    assessor.wait_for_selector("[data-testid=points-form] .text-danger")
    _kept(assessor, points)
    assert Score.objects.count() == scores
