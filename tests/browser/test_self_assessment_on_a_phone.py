"""Community staff finish a self-assessment on a phone (issue 16, items 2 and 3): each card
saved as it is given, a refused answer kept as typed beside its error, answers given without a
connection kept in the browser and sent when it returns. That no page community staff (or any
role) can reach is wider than the phone's screen is tests/browser/test_every_role_on_a_phone.py."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from civicmark.assessments.models import SelfScore

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/selfphone"))
PHONE = {"width": 390, "height": 844}


def _phone(browser, live_server, username, password="x-secret-password-1"):  # noqa: ANN001, ANN202, S107
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")  # in the folded menu
    return context, page


def _answer(page, code, points, explanation=None):  # noqa: ANN001, ANN202
    card = page.locator(f"[data-testid=self-card][data-item={code}]")
    if explanation is not None:
        card.locator("textarea").fill(explanation)
    box = card.locator("input[name$=-points]")
    box.fill(points)
    if explanation is not None:
        # Moving from the explanation to the points box sends nothing: the card is still open.
        assert card.get_attribute("data-state") == "unsaved"
    box.evaluate("b => b.blur()")  # leaving the card sends it
    return card


def _state(page, code, state, timeout=15000):  # noqa: ANN001, ANN202
    page.wait_for_selector(
        f"[data-testid=self-card][data-item={code}][data-state={state}]", timeout=timeout
    )


def _nothing_waiting(page, timeout_ms=15000):  # noqa: ANN001, ANN202
    """Wait until the browser's queue of unsent answers is empty.

    Polled from here rather than with wait_for_function: that evaluates its predicate with eval
    inside the page, which the page's Content Security Policy (script-src 'self') refuses.
    """
    waited = 0
    while page.evaluate("localStorage.getItem('civicmark:waiting')") != "{}":
        assert waited < timeout_ms, "answers still waiting in the browser"
        page.wait_for_timeout(100)
        waited += 100


@pytest.mark.django_db(transaction=True)
def test_community_staff_finish_a_self_assessment_on_a_phone(scoring, browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _phone(browser, live_server, "community_staff")
    page.goto(f"{live_server.url}/campaigns/c/self-assessment/?community=C111")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The explanation box is readable: most of the card's width, not two characters.
    width = page.locator("[data-item=A1] textarea").evaluate("t => t.clientWidth")
    assert width > 200
    page.screenshot(path=str(SHOTS / "self-phone-top.png"))
    top = page.evaluate("window.scrollY")

    # One answer, saved as it is given: no reload, the page stays where it was.
    _answer(page, "A1", "28", "居民会议记录齐全")
    _state(page, "A1", "saved")
    assert SelfScore.objects.get(item__code="A1").points == 28
    assert "1" in page.locator("[data-testid=progress]").inner_text()

    # A refused answer: the error beside the box, the explanation still as typed.
    page.locator("[data-item=B1]").scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    _answer(page, "B1", "25", "照片十二张，已标注日期")
    _state(page, "B1", "error")
    b1 = page.locator("[data-item=B1]")
    assert b1.locator("input[name$=-points]").input_value() == "25"
    assert b1.locator("textarea").input_value() == "照片十二张，已标注日期"
    assert b1.locator("[data-testid=points-error]").inner_text().strip()
    assert page.evaluate("window.scrollY") >= scrolled > top  # not thrown back to the top
    page.screenshot(path=str(SHOTS / "self-phone-error.png"))
    assert not SelfScore.objects.filter(item__code="B1").exists()
    _answer(page, "B1", "20")
    _state(page, "B1", "saved")
    assert SelfScore.objects.get(item__code="B1").explanation == "照片十二张，已标注日期"

    # The connection drops: the answers wait in the browser, and the card says so.
    context.set_offline(True)
    _answer(page, "A2", "29.5", "治安巡逻每周两次")
    _state(page, "A2", "waiting")
    _answer(page, "B2", "18")
    _state(page, "B2", "waiting")
    waiting = page.evaluate("JSON.parse(localStorage.getItem('civicmark:waiting'))")
    assert sorted(k.rsplit("/", 1)[1] for k in waiting) == ["A2", "B2"]
    assert page.locator("[data-autosave-waiting]").is_visible()
    page.screenshot(path=str(SHOTS / "self-phone-offline.png"))
    assert not SelfScore.objects.filter(item__code__in=["A2", "B2"]).exists()

    # It comes back: they are sent, nothing lost, nothing waiting.
    context.set_offline(False)
    _state(page, "A2", "saved", timeout=30000)
    _state(page, "B2", "saved", timeout=30000)
    stored = dict(SelfScore.objects.values_list("item__code", "points"))
    assert stored == {"A1": 28, "A2": Decimal("29.5"), "B1": 20, "B2": 18}
    assert SelfScore.objects.get(item__code="A2").explanation == "治安巡逻每周两次"
    # The card says saved when its answer is swapped in; the browser's copy is forgotten once the
    # card has settled, a moment later.
    _nothing_waiting(page)
    assert "4" in page.locator("[data-testid=progress]").inner_text()
    page.screenshot(path=str(SHOTS / "self-phone-done.png"), full_page=True)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_answers_left_waiting_are_sent_when_the_page_is_opened_again(scoring, browser, live_server):
    context, page = _phone(browser, live_server, "community_staff")
    url = f"{live_server.url}/campaigns/c/self-assessment/?community=C111"
    page.goto(url)
    context.set_offline(True)
    _answer(page, "A1", "27", "离线填写")
    _state(page, "A1", "waiting")
    # The phone's browser is closed while still without a connection, so the page never sees
    # the connection return; the answer waits in the browser's storage. Opened again later, with
    # a connection, the page puts the answer back in its card and sends it.
    page.close()
    assert not SelfScore.objects.filter(item__code="A1").exists()
    context.set_offline(False)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(url)
    _state(page, "A1", "saved", timeout=30000)
    assert SelfScore.objects.get(item__code="A1").explanation == "离线填写"
    _nothing_waiting(page)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_card_scrolled_to_is_not_under_the_progress_bar_which_counts_the_refused(
    scoring, browser, live_server
):
    """The walk: on a phone the sticky progress bar covered the title of the card one scrolled
    (or followed a link) to, and a card turning invalid below the screen was not counted."""
    context, page = _phone(browser, live_server, "community_staff")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/campaigns/c/self-assessment/?community=C111#card-A1")
    bar = page.locator("[data-testid=progress]")

    def below_the_bar(code: str) -> None:
        page.wait_for_timeout(100)
        bottom = bar.evaluate("b => b.getBoundingClientRect().bottom")
        top = page.locator(f"#card-{code}").evaluate("c => c.getBoundingClientRect().top")
        assert page.evaluate("window.scrollY") > 0  # the page did scroll to the card
        assert top >= bottom - 1, (code, top, bottom)

    below_the_bar("A1")  # an anchor link, as the to-do's
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#card-A1").evaluate("c => c.scrollIntoView()")
    below_the_bar("A1")

    invalid = page.locator("[data-testid=progress-invalid]")
    assert invalid.is_hidden()
    _answer(page, "B1", "25", "照片十二张")  # above B1's maximum: refused
    _state(page, "B1", "error")
    # The page is in Chinese: the badge reads its own translated sentence with the count.
    said = (invalid.get_attribute("data-text") or "").replace("%s", "1")
    assert "1" in said and "%" not in said
    expect(invalid).to_be_visible()
    expect(invalid).to_have_text(said)
    _answer(page, "B1", "1")
    _state(page, "B1", "saved")
    expect(invalid).to_be_hidden()
    context.close()
