"""A resident reads the station's job board on a phone; a community officer refers a resident to a
post and records each step up to the hire."""

from __future__ import annotations

import pytest
from django.utils import timezone

from civicmark.employment import services as svc
from civicmark.employment.models import Referral, ReferralState, Status
from tests.test_employment import _post, station  # noqa: F401  (the fixture)


def _open_post(station, world, title="小区保洁员"):  # noqa: ANN001, ANN202, F811
    return _post(station, world, title, today=timezone.localdate(), wages=(2600, 3000))


@pytest.mark.django_db(transaction=True)
def test_a_resident_reads_the_job_board_on_a_phone(station, world, browser, live_server):  # noqa: F811
    _open_post(station, world)
    svc.vacancy_file(  # awaiting review: never on the board
        actor=station["staff"],
        employer=station["employer"],
        community=world.d["C111"],
        title="未审核岗位",
        category="物业",
        hours="part",
        wage_min=1000,
        wage_max=1200,
    )
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/jobs/T11/")
    jobs = page.locator("[data-testid=job]")
    assert jobs.count() == 1
    assert "小区保洁员" in jobs.first.inner_text() and "2600" in jobs.first.inner_text()
    assert "未审核岗位" not in page.content()
    # Fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("[data-testid=whoami]").count() == 0  # no login, no menu
    context.close()


@pytest.mark.django_db(transaction=True)
def test_an_officer_records_a_referral_through_to_a_hire(station, world, sign_in, live_server):  # noqa: F811
    vacancy = _open_post(station, world)
    page = sign_in("community_staff")
    page.goto(f"{live_server.url}/employment/C111/")
    page.click("text=李秀英")
    page.select_option("#vacancy", str(vacancy.public_id))
    page.click("form:has(input[value=refer]) button")
    page.wait_for_selector("[data-testid=referral]")
    for step in ("contacted", "interview", "hired"):
        page.select_option("[data-testid=referral] select[name=to]", step)
        page.click("[data-testid=referral] button")
        page.wait_for_selector("[role=status], .alert")
    assert "已录用" in page.locator("[data-testid=referral-state]").inner_text() or (
        "Hired" in page.locator("[data-testid=referral-state]").inner_text()
    )
    referral = Referral.objects.get()
    assert referral.state == ReferralState.HIRED
    assert svc.status_on(station["mother"], timezone.localdate()).status == Status.EMPLOYED
    assert "在业" in page.locator("[data-testid=periods]").inner_text() or (
        "Employed" in page.locator("[data-testid=periods]").inner_text()
    )
