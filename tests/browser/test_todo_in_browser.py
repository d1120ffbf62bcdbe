"""Issue 16 item 1 in a real browser: each role's to-do list on the home page, at a phone's and
a desktop's size, one click from each to-do to the work, no page wider than the screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from civicmark.accounts.models import RoleAssignment
from civicmark.assessments.services import self_score_save
from civicmark.assessments.workflow import State, return_with_comments, transition_apply
from civicmark.campaigns.models import Enrollment
from civicmark.campaigns.services import campaign_create
from civicmark.divisions.models import Department
from tests.factories import build_world, person, small_standard

SHOTS = Path("/tmp/todo")
SIZES = [(390, 844), (1366, 900)]
# persona -> the to-do it must see, and where one click on it leads
EXPECTED = {
    "community_staff": ("returned", "/campaigns/c/self-assessment/?community=C111"),
    "town_officer": ("to_review", "/campaigns/c/acceptance/?state=submitted"),
    "county_officer": ("to_pre_accept", "/campaigns/c/acceptance/?state=town_reviewed"),
    "city_admin": ("rounds_to_lead", "/campaigns/c/rounds/1/"),
    "fp0": ("to_score", "/campaigns/c/rounds/2/score/"),
}


def _campaign() -> None:
    """A campaign in the middle of its work: C111 returned by its town with comments, C112
    submitted, C121 reviewed by its town, rounds 1 and 2 open today."""
    world = build_world()
    standard = small_standard(world)
    campaign = campaign_create(
        actor=None,
        slug="c",
        name="示范社区创建",
        year=2026,
        division=world.d["C"],
        standard=standard,
    )
    today = timezone.localdate()
    campaign.rounds.filter(number__in=(1, 2)).update(
        opens_on=today - timedelta(days=2), closes_on=today + timedelta(days=5)
    )
    campaign.rounds.get(number=2).covers.set(campaign.enrollments.all())
    assessor = person("fp0", "assessor", world.d["C"], department=world.dept["FP"])
    RoleAssignment.objects.create(
        user=assessor,
        role="assessor",
        division=world.d["C"],
        department=Department.objects.get(code="PSB"),
    )
    staff = world.users["community_staff"]
    c111 = campaign.enrollments.select_related("community").get(community__code="C111")
    transition_apply(actor=staff, campaign=campaign, enrollments=[c111], to=State.SELF_ASSESSING)
    items = list(standard.items.order_by("order"))
    for item in items:
        self_score_save(
            actor=staff, enrollment=c111, item=item, points=item.points, explanation="自评"
        )
    transition_apply(actor=staff, campaign=campaign, enrollments=[c111], to=State.SUBMITTED)
    return_with_comments(
        actor=world.users["town_officer"],
        enrollment=Enrollment.objects.select_related("community", "campaign").get(pk=c111.pk),
        comment="请补充台账",
        item_comments={items[1]: "缺少巡逻记录"},
    )
    campaign.enrollments.filter(community__code="C112").update(status=State.SUBMITTED)
    campaign.enrollments.filter(community__code="C121").update(status=State.TOWN_REVIEWED)


def _sign_in(browser, url: str, username: str, size: tuple[int, int]):  # noqa: ANN001, ANN202
    width, height = size
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "x-secret-password-1")
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")
    return context, page


def _fits(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_each_role_sees_its_to_do_and_reaches_the_work_in_one_click(browser, live_server):
    _campaign()
    SHOTS.mkdir(exist_ok=True)
    for size in SIZES:
        for username, (key, target) in EXPECTED.items():
            context, page = _sign_in(browser, live_server.url, username, size)
            todo = page.locator(f"[data-todo={key}]")
            assert todo.is_visible(), (username, size)
            assert _fits(page), (username, size)
            page.screenshot(path=str(SHOTS / f"todo-{username}-{size[0]}.png"), full_page=True)
            todo.locator("a").first.click()
            page.wait_for_load_state()
            assert page.url == f"{live_server.url}{target}", (username, size)
            context.close()


@pytest.mark.django_db(transaction=True)
def test_community_staff_see_the_towns_comments_in_their_to_do(browser, live_server):
    _campaign()
    context, page = _sign_in(browser, live_server.url, "community_staff", (390, 844))
    returned = page.locator("[data-todo=returned]").inner_text()
    assert "请补充台账" in returned and "缺少巡逻记录" in returned
    # The menu reaches the self-assessment directly (it answered 404 without a community).
    page.click("button.navbar-toggler")
    page.click("[data-testid=work-nav]:has-text('自评'), [data-testid=work-nav] >> nth=0")
    page.wait_for_selector("h1")
    assert "/self-assessment/" in page.url and "404" not in page.title()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_viewer_sees_the_campaign_at_a_glance_and_no_form(browser, live_server):
    _campaign()
    for size in SIZES:
        context, page = _sign_in(browser, live_server.url, "viewer", size)
        assert page.locator("[data-testid=figures]").is_visible()
        assert page.locator("[data-todo]").count() == 0
        assert _fits(page)
        page.screenshot(path=str(SHOTS / f"todo-viewer-{size[0]}.png"), full_page=True)
        page.goto(f"{live_server.url}/campaigns/c/acceptance/")
        assert page.locator("main form[method=post]").count() == 0
        context.close()
