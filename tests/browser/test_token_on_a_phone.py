"""An API token made on a phone (found walking the demo): the secret, shown once, fits the
screen and one tap selects all of it to copy."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in_on


@pytest.mark.django_db(transaction=True)
def test_the_secret_fits_a_phone_and_one_tap_selects_it_whole(world, browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in_on(page, live_server.url, "community_staff")
    page.goto(f"{live_server.url}/accounts/tokens/")
    page.fill("input[name=name]", "外勤平板")
    page.click("main form button.btn-primary")
    secret = page.locator("[data-testid=token-secret]")
    text = secret.inner_text().strip()
    assert text.startswith("cmk_")
    assert secret.evaluate(
        "e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().right <= window.innerWidth"
    )
    secret.click()
    assert page.evaluate("window.getSelection().toString().trim()") == text
    context.close()
