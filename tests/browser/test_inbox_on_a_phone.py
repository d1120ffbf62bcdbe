"""The inbox on a phone (issue 18 item 3): the unread count shows in the header without opening
the menu, the inbox and the choice of channels fit the screen, and marking read lowers the count,
at a phone's size (390x844) and a desktop's, in Chinese and in English."""

from __future__ import annotations

import pytest

from civicmark.notifications.models import Event
from civicmark.notifications.services import notify
from tests.browser.conftest import sign_in_on

SIZES = [{"width": 390, "height": 844}, {"width": 1366, "height": 900}]


def _fits(page) -> bool:  # noqa: ANN001
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth && "
        "[...document.querySelectorAll('main *')]"
        ".every(e => e.getBoundingClientRect().right <= window.innerWidth + 1)"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", SIZES, ids=["phone", "desktop"])
def test_the_inbox_on_a_phone_and_a_desktop(world, browser, live_server, viewport, language):
    staff = world.users["community_staff"]
    for n in range(3):
        notify(
            [staff],
            event=Event.RETURNED,
            key=f"k{n}",
            title=f"城关镇解放路社区的自评材料已退回修改，请按照意见补充会议记录和台账 {n}",
            body="A1 台账不全；B2 缺少居民满意度调查的原始问卷和统计表" * 2,
            link="/campaigns/",
        )
    phone = viewport["width"] < 500
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in_on(page, live_server.url, "community_staff")

    badge = page.locator("[data-testid=unread-count]")
    assert badge.is_visible() and badge.inner_text().startswith("3")  # no menu opened
    page.click("[data-testid=inbox-link]")
    assert page.locator("[data-testid=notification]").count() == 3
    assert _fits(page)
    page.locator("[data-testid=mark-read]").first.click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=unread-count]").inner_text().startswith("2")
    assert page.locator("[data-unread='1']").count() == 2
    page.click("[data-testid=read-all]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=unread-count]").count() == 0
    page.goto(f"{live_server.url}/inbox/preferences/")
    assert page.locator("input[name=email]").count() == 3
    assert _fits(page)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_tapping_a_notifications_title_on_a_phone_opens_it_and_marks_it_read(
    world, browser, live_server
):
    staff = world.users["community_staff"]
    notify(
        [staff],
        event=Event.RETURNED,
        key="t",
        title="自评材料已退回修改：已提级至安平县督办，在县级验收开始前完成逐项自评并备齐佐证材料",
        link="/campaigns/",
    )
    notify([staff], event=Event.RETURNED, key="u", title="另一条", link="/campaigns/")
    context = browser.new_context(viewport=SIZES[0], is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    sign_in_on(page, live_server.url, "community_staff")
    page.click("[data-testid=inbox-link]")
    title = page.locator("[data-testid=notification-title]", has_text="自评材料已退回修改")
    # a long title wraps inside its card (a button does not wrap by itself)
    assert title.evaluate(
        "e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().right <= window.innerWidth"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= 390")
    title.tap()
    page.wait_for_url(f"{live_server.url}/campaigns/")
    assert page.locator("[data-testid=unread-count]").inner_text().startswith("1")
    context.close()
