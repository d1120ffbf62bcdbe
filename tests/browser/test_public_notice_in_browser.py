"""The public notice in a real browser (issue 17 item 5): a resident opens the public notice on a
phone without signing in, objects to a community and is given a reference; the city finds the
objection on its to-do at a desktop's size and decides it. No page wider than the screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from civicmark.assessments.models import Objection
from civicmark.assessments.notice_services import notice_publish
from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Enrollment
from tests.test_workflow import pass_round

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/notice"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
STATEMENT = "活动室长期上锁，居民无法使用。"
NAME, CONTACT = "居民甲", "13900000000"


def _context(browser, live_server, viewport):  # noqa: ANN001, ANN202
    phone = viewport["width"] < 500
    context = browser.new_context(
        locale="en-US", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _fits(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _main_fits(page) -> bool:  # noqa: ANN001
    return page.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".every(e => e.getBoundingClientRect().right <= window.innerWidth + 1)"
    )


@pytest.mark.django_db(transaction=True)
def test_a_resident_objects_on_a_phone_and_the_city_decides(scoring, world, browser, live_server):
    s = scoring
    for code, state in (("C111", State.STANDARD_UNIT), ("C112", State.PROPOSED)):
        pass_round(s, 2, code)
        Enrollment.objects.filter(pk=s["enrollments"][code].pk).update(status=state)
    s["round"].finalised_at = timezone.now()
    s["round"].save(update_fields=["finalised_at"])
    notice = notice_publish(
        actor=world.users["city_admin"], round_=s["round"], today=timezone.localdate()
    )
    SHOTS.mkdir(exist_ok=True)

    # A resident, not signed in, on a phone: the list of open notices, the notice, an objection.
    context, page = _context(browser, live_server, PHONE)
    page.goto(live_server.url + reverse("notice_list"))
    page.locator("[data-testid=notice-list] a").first.click()
    expect(page.locator("[data-testid=entries]")).to_contain_text("Community 111")
    expect(page.locator("[data-testid=entries]")).to_contain_text("Proposed for", ignore_case=True)
    assert _fits(page)
    page.select_option("#id_entry", label="Community 111")
    page.fill("#id_statement", STATEMENT)
    page.fill("#id_name", NAME)
    page.fill("#id_contact", "not a phone")
    page.locator("[data-testid=objection-form] button").click()
    expect(page.locator("#id_contact ~ .text-danger, .text-danger")).to_have_count(1)
    assert page.input_value("#id_statement") == STATEMENT  # kept for him
    assert not Objection.objects.exists()
    page.fill("#id_contact", CONTACT)
    page.locator("[data-testid=objection-form] button").click()
    reference = page.locator("[data-testid=reference]")
    expect(reference).to_be_visible()
    objection = Objection.objects.get()
    assert reference.inner_text().strip() == objection.reference
    assert NAME not in page.content() and CONTACT not in page.content()
    assert _fits(page)
    page.screenshot(path=str(SHOTS / "objection-390.png"), full_page=True)
    context.close()

    # The city, at a desktop: the to-do leads to the notice, where it decides with a reason.
    context, page = _context(browser, live_server, DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "city_admin")
    page.fill("#id_password", "x-secret-password-1")
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")
    page.goto(live_server.url + reverse("home"))
    page.locator(
        f"a[href='{reverse('notice_detail', args=['c', notice.public_id])}']"
    ).first.click()
    card = page.locator(f"[data-reference='{objection.reference}']")
    expect(card).to_contain_text(STATEMENT)
    expect(card).to_contain_text(CONTACT)
    card.locator("select[name=decision]").select_option("dismissed")
    card.locator("textarea[name=reason]").fill("经核查，活动室按时开放。")
    card.locator("button").click()
    expect(page.locator("[data-testid=decided]")).to_contain_text("Dismissed")
    assert _main_fits(page)
    page.screenshot(path=str(SHOTS / "decided-1366.png"), full_page=True)
    context.close()
    objection.refresh_from_db()
    assert objection.decision == "dismissed"
