"""An assessor scores a community and records a one-vote veto on a phone (issue 16, item 2):
each card saves as it is answered, a column pasted from Excel fills the column, a wrong row keeps
every value typed, and nothing on the page is wider than the screen."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from civicmark.scoring.models import Score, VetoFinding

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/scorephone"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _signed_in(browser, live_server, viewport, username="fp0"):  # noqa: ANN001, ANN202
    phone = viewport["width"] < 500
    context = browser.new_context(
        locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "x-secret-password-1")
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")  # in the folded menu
    return context, page


def _card(page, code):  # noqa: ANN001, ANN202
    return page.locator(f"[data-testid=score-card][data-item={code}]")


def _saved(page, code):  # noqa: ANN001, ANN202
    page.wait_for_selector(f"[data-item={code}] [data-testid=score-state][data-state=saved]")


def _paste(page, selector, text):  # noqa: ANN001, ANN202
    """What Excel puts on the clipboard, pasted into a box (a real paste event)."""
    page.evaluate(
        """([selector, text]) => {
            const box = document.querySelector(selector);
            box.focus();
            const data = new DataTransfer();
            data.setData("text/plain", text);
            box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                          cancelable: true}));
        }""",
        [selector, text],
    )


@pytest.mark.django_db(transaction=True)
def test_an_assessor_scores_and_records_a_veto_on_a_phone(scoring, browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _signed_in(browser, live_server, PHONE)
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/score/C111/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "score-phone-top.png"))

    # One answer, saved as it is given: no button, no reload.
    a2 = _card(page, "A2")
    a2.locator("input[name$=-points]").fill("30")
    a2.locator("input[name$=-points]").press("Tab")
    _saved(page, "A2")
    assert Score.objects.get(item__code="A2").points == Decimal(30)
    assert "1" in page.locator("[data-testid=score-progress]").get_attribute("data-done")

    # No connection: the answer is kept on the phone, said to be waiting, and sent when the
    # connection returns (autosave.js, shared with the self-assessment).
    context.set_offline(True)
    b2 = _card(page, "B2").locator("input[name$=-points]")
    b2.fill("20")
    b2.press("Tab")
    page.wait_for_selector("[data-testid=score-card][data-item=B2][data-state=waiting]")
    assert page.locator("[data-testid=score-waiting]").is_visible()
    assert not Score.objects.filter(item__code="B2").exists()
    page.screenshot(path=str(SHOTS / "score-phone-offline.png"))
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _saved(page, "B2")
    assert Score.objects.get(item__code="B2").points == Decimal(20)
    # The "waiting" line is cleared once the answer's card has settled (a moment after the card
    # says saved): wait for it rather than read it at once.
    expect(page.locator("[data-testid=score-waiting]")).to_be_hidden()

    # A column of points copied from Excel (a second column: the reasons) fills the cards.
    _paste(
        page,
        "[data-item=A1] input[name$=-points]",
        "26\t活动记录缺两个月\r\n30\r\n20\r\n15\t满意率不足\r\n",
    )
    expected = {"A1": Decimal(26), "A2": Decimal(30), "B1": Decimal(20), "B2": Decimal(15)}
    for _ in range(60):  # the four answers go one after the other (hx-sync queues them)
        if dict(Score.objects.values_list("item__code", "points")) == expected:
            break
        page.wait_for_timeout(250)
    assert dict(Score.objects.values_list("item__code", "points")) == expected
    for code in expected:
        _saved(page, code)
    assert Score.objects.get(item__code="B2").reason == "满意率不足"

    # A wrong answer: refused beside its field, what was typed stays in the box.
    b1 = _card(page, "B1").locator("input[name$=-points]")
    b1.fill("19")
    b1.press("Tab")
    page.wait_for_selector("[data-item=B1] [data-testid=score-state][data-state=error]")
    assert b1.input_value() == "19"
    assert page.locator("[data-item=B1] [id$=-reason-error]").inner_text().strip()
    page.screenshot(path=str(SHOTS / "score-phone-error.png"), full_page=True)
    assert Score.objects.get(item__code="B1").points == Decimal(20)

    # The veto control sits with the cards: record a finding.
    page.click("a[href='#vetoes']")
    page.locator("[data-testid=vetoes] textarea").fill("发现违反政策生育")
    page.locator("[data-testid=vetoes] button.btn-outline-danger").click()
    page.wait_for_selector("[data-testid=vetoes] .badge.text-bg-danger")
    assert VetoFinding.objects.get().reason == "发现违反政策生育"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "score-phone-veto.png"), full_page=True)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_page_of_scores_saves_in_one_click_on_a_desktop(scoring, browser, live_server):
    context, page = _signed_in(browser, live_server, DESKTOP)
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/score/C111/")
    # Typed without leaving the boxes (no change sent yet), then one click saves the page.
    for code, points in (("A1", "30"), ("A2", "28"), ("B1", "20"), ("B2", "20")):
        page.evaluate(
            "([code, points]) => { document.querySelector("
            "`[data-item=${code}] input[name$=-points]`).value = points; }",
            [code, points],
        )
    page.locator("[data-item=A2] textarea").evaluate("(t) => { t.value = '少一次巡查'; }")
    page.click("[data-testid=save-all]")
    page.wait_for_selector(".alert-success")
    assert Score.objects.count() == 4
    assert page.locator("[data-testid=score-progress]").get_attribute("data-done") == "4"
    page.screenshot(path=str(SHOTS / "score-desktop.png"), full_page=True)
    context.close()
