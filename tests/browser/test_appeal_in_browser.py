"""An appeal in a real browser (issue 17 item 3), at a desktop's and a phone's size: the
community's staff file it from the result page with a statement and a document, the round's
lead assigns a reviewer who did not score the item, the reviewer changes the score, and the
result page shows the changed total; no page wider than the screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from civicmark.quality.models import Appeal, AppealStatus
from tests.test_appeals import PDF, sign_off

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/appeals"))
# Each size appeals a different community's A1: C112 lost 25 (75, not reached), C111 lost 10.
SIZES = [
    ({"width": 1366, "height": 900}, "C112", "75.00"),
    ({"width": 390, "height": 844}, "C111", "90.00"),
]


def _signed_in(browser, live_server, viewport, username):  # noqa: ANN001, ANN202
    phone = viewport["width"] < 500
    context = browser.new_context(
        locale="en-US", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "x-secret-password-1")
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")
    return context, page


def _main_fits(page) -> bool:  # noqa: ANN001
    return page.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".every(e => e.getBoundingClientRect().right <= window.innerWidth + 1)"
    )


@pytest.mark.django_db(transaction=True)
def test_statement_assignment_and_a_changed_score_at_both_sizes(
    scoring, world, browser, live_server, tmp_path
):
    s = sign_off(scoring, world)
    SHOTS.mkdir(exist_ok=True)
    document = tmp_path / "minutes.pdf"
    document.write_bytes(PDF)
    item = s["items"]["A1"]
    for viewport, code, before in SIZES:
        width = viewport["width"]
        staff = s["staff"][code].username
        result_url = live_server.url + reverse("community_result", args=["c", 2, code])

        # The community's statement, from its result page.
        context, page = _signed_in(browser, live_server, viewport, staff)
        page.goto(result_url)
        expect(page.locator("[data-testid=result-summary] .display-6")).to_have_text(before)
        page.click("[data-testid=appeal-link]")
        page.select_option("#id_subject", f"item:{item.pk}")
        page.fill("#id_statement", "会议记录齐全，见附件")
        page.set_input_files("#id_file", str(document))
        assert _main_fits(page), (width, "appeal form")
        page.locator("[data-testid=appeal-form] button").click()
        expect(page.locator("[data-testid=appeal-status]")).to_have_attribute(
            "data-status", "filed"
        )
        expect(page.locator("[data-testid=appeal-files]")).to_contain_text("minutes.pdf")
        page.screenshot(path=str(SHOTS / f"filed-{width}.png"), full_page=True)
        context.close()
        appeal = Appeal.objects.get(enrollment__community__code=code)

        # The round's lead gives it to fp1 (fp0 scored it, and is not offered).
        context, page = _signed_in(browser, live_server, viewport, "city_admin")
        page.goto(live_server.url + reverse("appeal_round", args=["c", 2]))
        form = page.locator(f"[data-appeal='{appeal.public_id}'] [data-testid=assign-form]")
        assert form.locator("option[value=fp0]").count() == 0
        form.locator("select").select_option("fp1")
        form.locator("button").click()
        expect(
            page.locator(f"[data-appeal='{appeal.public_id}'] [data-status=assigned]")
        ).to_be_visible()
        assert _main_fits(page), (width, "lead's list")
        page.screenshot(path=str(SHOTS / f"assigned-{width}.png"), full_page=True)
        context.close()

        # The reviewer finds it on his to-do, reads the scores given, and changes it.
        context, page = _signed_in(browser, live_server, viewport, "fp1")
        page.goto(live_server.url + "/")
        page.locator(
            f"a[href='{reverse('appeal_detail', args=['c', 2, appeal.public_id])}']"
        ).first.click()
        expect(page.locator("[data-testid=appeal-given]")).to_contain_text("fp0")
        expect(page.locator("[data-testid=appeal-statement]")).to_contain_text("会议记录齐全")
        page.check("input[name=decision][value=change]")
        page.fill("#id_points", "30")
        page.fill("#id_reason", "会议记录齐全，恢复满分")
        assert _main_fits(page), (width, "decision form")
        page.locator("[data-testid=decision-form] button").click()
        expect(page.locator("[data-testid=appeal-status]")).to_have_attribute(
            "data-status", "changed"
        )
        page.screenshot(path=str(SHOTS / f"decided-{width}.png"), full_page=True)
        context.close()
        assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.CHANGED

        # The community's result page shows the changed score.
        context, page = _signed_in(browser, live_server, viewport, staff)
        page.goto(result_url)
        expect(page.locator("[data-testid=result-summary] .display-6")).to_have_text("100.00")
        assert _main_fits(page), (width, "result")
        page.screenshot(path=str(SHOTS / f"result-{width}.png"), full_page=True)
        context.close()
