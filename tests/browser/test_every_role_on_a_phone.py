"""Every role's everyday pages work on a phone (issue 16): signed in as each demo account at
390x844, every page two clicks from home fits the screen (the document is no wider than the
phone; a wide table scrolls inside its own box) and every link leads somewhere (no edit link to a
page that answers "not found"). A leading-group member, who only watches, is offered no form that
writes on any of them: an export he may take is a plain link.

The walk is tests/browser/crawl.py; the demo city is civicmark/demo."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .crawl import Visit, crawl
from .tour import DESKTOP, PASSWORD, PHONE, sign_in

SHOTS = Path(os.environ.get("CIVICMARK_SHOTS", "/tmp/every-role-phone"))
ROLES = ("admin", "city", "county", "town", "town2", "community", "zhaoyang", "assessor", "viewer")
# A person's own account (his password, his second factor) is his to change, even read-only.
# What a read-only person writes of his own account and nothing else: his password, his second
# factor, his read-only API tokens (ADR 24) and his own inbox and its preferences (ADR 28).
OWN_ACCOUNT = ("/accounts/password/", "/accounts/code/", "/accounts/tokens/", "/inbox/")


def _walk(browser, live_server, username: str, shoot) -> list[Visit]:  # noqa: ANN001
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30000)
    sign_in(page, live_server.url, username, PASSWORD)

    def on_page(visit: Visit) -> None:
        if shoot(visit):
            name = re.sub(r"[^A-Za-z0-9]+", "-", visit.path).strip("-") or "home"
            page.screenshot(path=str(SHOTS / f"{username}-{name[:80]}.png"), full_page=True)

    try:
        return crawl(page, live_server.url, on_page=on_page)
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("username", ROLES)
def test_no_page_a_role_reaches_is_wider_than_a_phone(demo, browser, live_server, username):
    SHOTS.mkdir(parents=True, exist_ok=True)
    visits = _walk(
        browser, live_server, username, lambda v: v.width > PHONE["width"] or v.status >= 400
    )
    wide = [f"{v.path}: {v.width}px" for v in visits if v.width > PHONE["width"]]
    broken = [
        f"{v.path} (linked from {v.came_from}): {v.status}" for v in visits if v.status >= 400
    ]
    assert len(visits) > 10, [v.path for v in visits]  # the walk reached the work, not only home
    assert not wide, f"{username}'s pages wider than a 390 px phone:\n" + "\n".join(wide)
    assert not broken, f"{username}'s links that lead nowhere:\n" + "\n".join(broken)


@pytest.mark.django_db(transaction=True)
def test_a_leading_group_member_is_offered_no_form_that_writes(demo, browser, live_server):
    visits = _walk(browser, live_server, "viewer", lambda v: bool(v.post_forms))
    offered = [
        f"{v.path}: {form}"
        for v in visits
        if not v.path.startswith(OWN_ACCOUNT)
        for form in v.post_forms
    ]
    paths = {v.path for v in visits}
    # The walk reached the pages where the others act: acceptance, results, tasks.
    assert {"/campaigns/anping-2026/acceptance/", "/campaigns/anping-2026/results/"} <= paths
    assert not offered, "POST forms on a read-only person's pages:\n" + "\n".join(offered)


@pytest.mark.django_db(transaction=True)
def test_a_leader_reads_the_key_figures_on_the_first_screen_of_a_phone(demo, browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server.url, "viewer", PASSWORD)
    page.goto(f"{live_server.url}/campaigns/anping-2026/dashboard/")
    figures = page.locator("[data-testid=key-figures]").bounding_box()
    show = page.locator("form button", has_text="显示").bounding_box()
    assert figures is not None and show is not None
    # Five figures in three short rows (their meanings folded below), not 360 px of cards; the
    # round's Show button on one line, not 显 over 示.
    assert figures["height"] < 240, figures
    assert show["height"] < 40, show
    page.locator("[data-testid=key-figure-meanings] summary").click()
    assert page.locator("[data-testid=key-figure-meanings] dd").first.is_visible()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_audit_log_folds_its_filters_behind_a_button_on_a_phone(world, browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in(page, live_server.url, "city_admin", "x-secret-password-1")
    page.goto(f"{live_server.url}/audit/")
    filters = page.locator("[data-testid=audit-filters]")
    toggle = page.locator("[data-testid=audit-filters-toggle]")
    # Folded: the events start on the first screen.
    assert not filters.is_visible() and toggle.is_visible()
    toggle.click()
    page.wait_for_selector("[data-testid=audit-filters].show")
    assert filters.is_visible()
    # A filter set (or refused) keeps them open, so the reader sees what he asked for.
    page.goto(f"{live_server.url}/audit/?person=city_admin")
    assert filters.is_visible()
    # On a desktop they are always there, with no button.
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/audit/")
    assert filters.is_visible() and not toggle.is_visible()
    context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("username", ["admin", "city", "county"])
def test_the_longest_menu_fits_a_desktop_screen(demo, browser, live_server, username, language):
    """A city or county officer's menu, in English, ran 15 px past a 1366 px screen on every
    campaign page. It wraps onto a second line instead."""
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    sign_in(page, live_server.url, username, PASSWORD)
    for path in ("/", "/campaigns/anping-2026/dashboard/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"], path
        nav = page.locator("nav.navbar").bounding_box()
        assert nav is not None and nav["x"] + nav["width"] <= DESKTOP["width"], path
    context.close()
