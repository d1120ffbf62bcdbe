"""axe-core finds no serious or critical violation on the main pages of each role, on a desktop
(1366x900) and on a phone (390x844) (issue 16, "Done means"). axe-core is vendored under
tests/browser/vendor (scripts/vendor-test-assets.sh) and injected by the test only."""

from __future__ import annotations

import pytest

from .tour import AXE, AXE_RUN, DESKTOP, PASSWORD, PHONE, TOUR, sign_in


@pytest.mark.django_db(transaction=True)
def test_it_finds_no_serious_accessibility_violation_on_the_main_pages(demo, browser, live_server):
    """Both sizes in one test: the demo city is loaded once."""
    axe = AXE.read_text()
    found: list[str] = []
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        for username, pages in TOUR:
            # bypass_csp: the pages' policy rightly refuses inline scripts; axe is the test's own.
            context = browser.new_context(
                locale="zh-CN", viewport=size, is_mobile=size is PHONE, bypass_csp=True
            )
            page = context.new_page()
            page.set_default_timeout(15000)
            sign_in(page, live_server.url, username, PASSWORD)
            for name, path in pages:
                response = page.goto(f"{live_server.url}{path}")
                assert response is not None and response.ok, f"{username} {path}: {response}"
                page.add_script_tag(content=axe)
                found += [
                    f"{size_name} {username} {name} {path}: {v}" for v in page.evaluate(AXE_RUN)
                ]
            context.close()
    assert not found, "serious or critical accessibility violations:\n" + "\n".join(found)
