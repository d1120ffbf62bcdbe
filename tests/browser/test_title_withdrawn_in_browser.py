"""Dynamic management of titles in a real browser (issue 17 item 4): the public verification
page of the demo's withdrawn title on a phone says WITHDRAWN with the date, and nothing of the
finding; the city's re-check page at a desktop's size records a failed re-check and withdraws
the title, and fits a phone too."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from civicmark.assessments.models import Rectification
from civicmark.results.models import TitleRecheck

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/titles"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "CivicMark-demo-2026"


def _context(browser, live_server, viewport):  # noqa: ANN001, ANN202
    phone = viewport["width"] < 500
    context = browser.new_context(
        locale="en-US", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _width(page) -> int:  # noqa: ANN001
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.django_db(transaction=True)
def test_the_public_sees_a_withdrawn_title_as_withdrawn_on_a_phone(demo, browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    withdrawn = TitleRecheck.objects.select_related("certificate").get(status="withdrawn")
    cert = withdrawn.certificate
    day = timezone.localtime(cert.revoked_at).date().isoformat()
    context, page = _context(browser, live_server, PHONE)
    try:
        page.goto(f"{live_server.url}/v/{cert.code}/")
        banner = page.locator("[data-testid=withdrawn]")
        expect(banner).to_contain_text("WITHDRAWN")
        expect(banner).to_contain_text(day)
        expect(page.locator("[data-testid=verification]")).to_contain_text("文昌社区")
        assert cert.revoked_reason not in page.content()
        assert _width(page) <= PHONE["width"]
        page.screenshot(path=str(SHOTS / "verify-withdrawn-phone.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_the_city_records_a_failed_recheck_and_withdraws_the_title(demo, browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    context, page = _context(browser, live_server, DESKTOP)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "city")
        page.fill("#id_password", PASSWORD)
        page.click("button.btn-primary")
        page.wait_for_selector("[data-testid=whoami]", state="attached")
        page.goto(f"{live_server.url}/campaigns/{demo.slug}/titles/")
        cards = page.locator("[data-testid=recheck]")
        expect(cards).to_have_count(4)
        expect(page.locator("[data-testid=recheck-draw]")).to_contain_text("seed 2027")
        assert _width(page) <= DESKTOP["width"]
        page.screenshot(path=str(SHOTS / "titles-desktop.png"), full_page=True)

        # 解放路社区, still to re-check: it fails, with a deadline to rectify.
        card = cards.filter(has_text="解放路社区")
        form = card.locator("[data-testid=recheck-form]")
        form.get_by_label("failed").check()
        form.get_by_label("Re-checked on").fill((today - timedelta(days=9)).isoformat())
        form.get_by_label("Finding").fill("议事协商记录缺失")
        form.get_by_role("button", name="Record the re-check").click()
        # A deadline is needed: the page keeps what was typed and says so beside the box.
        expect(page.locator("[data-testid=field-error]")).to_contain_text("Set the deadline")
        card = page.locator("[data-testid=recheck]").filter(has_text="解放路社区")
        form = card.locator("[data-testid=recheck-form]")
        expect(form.get_by_label("Finding")).to_have_value("议事协商记录缺失")
        # A deadline already past leaves no day to rectify (the walk, p-city-65): refused.
        form.get_by_label("Rectification due on").fill((today - timedelta(days=1)).isoformat())
        form.get_by_role("button", name="Record the re-check").click()
        expect(page.locator("[data-testid=field-error]")).to_contain_text("after the day it is set")
        card = page.locator("[data-testid=recheck]").filter(has_text="解放路社区")
        form = card.locator("[data-testid=recheck-form]")
        form.get_by_label("Rectification due on").fill((today + timedelta(days=20)).isoformat())
        form.get_by_role("button", name="Record the re-check").click()
        card = page.locator("[data-testid=recheck]").filter(has_text="解放路社区")
        expect(card.locator("[data-testid=recheck-status]")).to_have_text("Failed: rectifying")
        expect(card.locator("[data-testid=withdraw-refusal]")).to_contain_text(
            "Not before the deadline"
        )

        # 东关社区's month has run out: the follow-up after the deadline fails, then the title
        # is withdrawn (never without that follow-up).
        Rectification.objects.filter(
            pk=TitleRecheck.objects.get(
                certificate__enrollment__community__name="东关社区", status="failed"
            ).rectification_id
        ).update(due_on=today - timedelta(days=1))
        page.reload()
        card = page.locator("[data-testid=recheck]").filter(has_text="东关社区")
        expect(card.locator("[data-testid=withdraw-refusal]")).to_contain_text(
            "re-check it (the follow-up)"
        )
        follow = card.locator("[data-testid=follow-up-form]")
        follow.get_by_label("failed").check()
        follow.get_by_label("Followed up on").fill(today.isoformat())
        follow.get_by_label("Finding").fill("逾期复查：仍未整改")
        follow.get_by_role("button", name="Record the follow-up").click()
        card = page.locator("[data-testid=recheck]").filter(has_text="东关社区")
        expect(card.locator("[data-testid=recheck-status]")).to_have_text(
            "Failed again after the deadline"
        )
        withdraw = card.locator("[data-testid=withdraw-form]")
        withdraw.get_by_label("Reason for the withdrawal").fill("逾期未整改")
        withdraw.get_by_role("button", name="Withdraw the title").click()
        card = page.locator("[data-testid=recheck]").filter(has_text="东关社区")
        expect(card.locator("[data-testid=recheck-status]")).to_have_text("Title withdrawn")
        expect(card.locator("[data-testid=recheck-withdrawn]")).to_contain_text("逾期未整改")
        page.screenshot(path=str(SHOTS / "titles-withdrawn-desktop.png"), full_page=True)

        # The same page on a phone: nothing wider than the screen.
        page.set_viewport_size(PHONE)
        page.reload()
        expect(page.locator("[data-testid=recheck]")).to_have_count(4)
        assert _width(page) <= PHONE["width"]
        page.screenshot(path=str(SHOTS / "titles-phone.png"), full_page=True)
    finally:
        context.close()
