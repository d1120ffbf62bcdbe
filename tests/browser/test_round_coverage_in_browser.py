"""The round's lead unticks a community in a real browser, on a desktop and a phone: the
defaults are ticked, taking one out asks first, going back keeps the ticks (issue 16, item 7)."""

from __future__ import annotations

import pytest

from civicmark.campaigns.models import AcceptanceRound, Enrollment


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)])
def test_the_lead_is_asked_before_a_community_leaves_the_round(
    scoring, world, sign_in, live_server, page, size
):
    round_ = scoring["round"]
    round_.covers.clear()
    Enrollment.objects.filter(community__code__in=["C111", "C112"]).update(status="reported")
    sign_in("city_admin")  # at the desktop size, where the menu shows who signed in
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/")
    boxes = page.locator("[data-testid=round-form] [data-testid=coverage] input[type=checkbox]")
    ticked = [boxes.nth(i).is_checked() for i in range(boxes.count())]
    assert ticked == [True, True, False, False]  # the defaults, ticked
    assert page.locator("[data-testid=cover-default]").count() == 2
    boxes.nth(1).uncheck()
    with page.expect_navigation():
        page.click("[data-testid=round-form] button.btn-primary")
    assert "Community 112" in page.inner_text("[data-testid=cover-removing]")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.screenshot(path=f"/tmp/workflow/cover-confirm-{size[0]}.png", full_page=True)
    with page.expect_navigation():  # the page's boxes, not the old page's, are read next
        page.click("[data-testid=back-to-ticks]")
    boxes = page.locator("[data-testid=round-form] [data-testid=coverage] input[type=checkbox]")
    assert [boxes.nth(i).is_checked() for i in range(boxes.count())] == [True, False, False, False]
    assert not AcceptanceRound.objects.get(pk=round_.pk).covers.exists()  # nothing saved yet
    with page.expect_navigation():
        page.click("[data-testid=round-form] button.btn-primary")
    page.click("[data-testid=confirm-removal]")
    page.wait_for_selector("[role=status]")
    codes = AcceptanceRound.objects.get(pk=round_.pk).covers.values_list(
        "community__code", flat=True
    )
    assert list(codes) == ["C111"]
