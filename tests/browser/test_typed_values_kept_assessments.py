"""No typed word lost on the assessments pages, in chromium (issue 16): each kind of form is
filled in, refused, and must come back with every value typed or ticked still in its box and
the reason beside the field, at 1366x900 and (some) at 390x844."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from civicmark.assessments.models import Rectification, ReturnComment
from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Enrollment
from civicmark.scoring.models import Score, VetoFinding

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
LONG = "长" * 4001  # past the 4,000 characters a comment, note or reason may hold

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in(browser, live_server, viewport, username):  # noqa: ANN001, ANN202
    phone = viewport["width"] < 500
    context = browser.new_context(
        locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "x-secret-password-1")
    page.click("button.btn-primary")
    page.wait_for_selector("[data-testid=whoami]", state="attached")
    return context, page


def _beside(page, box: str):  # noqa: ANN001, ANN202
    """The error the box names as describing it, which must be shown."""
    described = page.locator(box).get_attribute("aria-describedby")
    assert described, f"{box} has no error beside it"
    error = page.locator(f"[id='{described}']")
    expect(error).to_be_visible()
    return error


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_refused_step_keeps_the_ticks_the_target_and_the_comment(
    scoring, browser, live_server, viewport
):
    context, page = _signed_in(browser, live_server, viewport, "town_officer")
    page.goto(f"{live_server.url}/campaigns/c/acceptance/")
    c111 = scoring["enrollments"]["C111"].pk
    page.check(f"input[name=enrollment][value='{c111}']")
    target = page.locator("#to option").last.get_attribute("value")
    page.select_option("#to", target)
    page.fill("#comment", LONG)
    page.locator("[data-testid=step-form] button.btn-primary").click()
    _beside(page, "#comment")
    expect(page.locator("#comment")).to_have_value(LONG)
    expect(page.locator("#to")).to_have_value(target)
    expect(page.locator(f"input[name=enrollment][value='{c111}']")).to_be_checked()
    c112 = scoring["enrollments"]["C112"].pk
    expect(page.locator(f"input[name=enrollment][value='{c112}']")).not_to_be_checked()
    assert set(Enrollment.objects.values_list("status", flat=True)) == {State.ENROLLED}
    context.close()


def test_a_reopen_without_a_reason_is_refused_beside_its_reason(scoring, browser, live_server):
    round_ = scoring["round"]
    round_.finalised_at = timezone.now()
    round_.save(update_fields=["finalised_at"])
    context, page = _signed_in(browser, live_server, DESKTOP, "city_admin")
    page.goto(f"{live_server.url}/campaigns/c/acceptance/")
    page.fill("#reason-2", " ")
    page.locator("#reason-2").press("Enter")
    _beside(page, "#reason-2")
    page.fill("#reason-2", LONG)
    page.locator("#reason-2").press("Enter")
    _beside(page, "#reason-2")
    expect(page.locator("#reason-2")).to_have_value(LONG)
    round_.refresh_from_db()
    assert round_.finalised_at is not None
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_rectification_refused_keeps_its_status_and_note(scoring, browser, live_server, viewport):
    finding = Rectification.objects.create(
        round=scoring["round"],
        enrollment=scoring["enrollments"]["C111"],
        item=scoring["items"]["A1"],
        points_lost=2,
        reason="台账缺失",
    )
    context, page = _signed_in(browser, live_server, viewport, "community_staff")
    page.goto(f"{live_server.url}/campaigns/c/rectification/")
    status, note = f"#status-{finding.public_id}", f"#note-{finding.public_id}"
    page.select_option(status, "done")
    page.fill(note, LONG)
    page.locator(f"#rect-{finding.public_id} form button.btn-primary").click()
    _beside(page, note)
    expect(page.locator(status)).to_have_value("done")
    expect(page.locator(note)).to_have_value(LONG)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    finding.refresh_from_db()
    assert (finding.status, finding.note) == ("open", "")
    context.close()


def test_a_return_refused_keeps_the_comment_and_every_items_note(scoring, browser, live_server):
    s = scoring
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status=State.SUBMITTED)
    a1, a2 = s["items"]["A1"].pk, s["items"]["A2"].pk
    context, page = _signed_in(browser, live_server, DESKTOP, "town_officer")
    page.goto(f"{live_server.url}/campaigns/c/self-assessment/?community=C111")
    page.fill(f"#note-{a1}", "台账不全")
    page.fill(f"#note-{a2}", LONG)
    page.fill("#review-comment", "请按意见修改")
    page.locator("[data-testid=review] button[value=return]").click()
    _beside(page, f"#note-{a2}")
    expect(page.locator(f"#note-{a1}")).to_have_value("台账不全")
    expect(page.locator(f"#note-{a2}")).to_have_value(LONG)
    expect(page.locator("#review-comment")).to_have_value("请按意见修改")
    assert not ReturnComment.objects.exists()
    assert Enrollment.objects.get(pk=s["enrollments"]["C111"].pk).status == State.SUBMITTED
    context.close()


def test_a_refused_document_keeps_the_items_it_proves(scoring, browser, live_server):
    s = scoring
    context, page = _signed_in(browser, live_server, DESKTOP, "community_staff")
    page.goto(f"{live_server.url}/campaigns/c/self-assessment/?community=C111")
    chosen = [str(s["items"]["A1"].pk), str(s["items"]["B1"].pk)]
    page.select_option("#evidence-items", chosen)
    page.set_input_files(
        "#evidence-file",
        files=[{"name": "说明.txt", "mimeType": "text/plain", "buffer": "不是文件".encode()}],
    )
    page.locator("[data-testid=evidence-form] button.btn-primary").click()
    _beside(page, "#evidence-file")
    selected = page.eval_on_selector(
        "#evidence-items", "s => [...s.selectedOptions].map(o => o.value)"
    )
    assert selected == chosen
    context.close()


def test_a_decline_without_a_comment_keeps_the_ticks(scoring, browser, live_server):
    s = scoring
    proposed = [s["enrollments"][c].pk for c in ("C111", "C112")]
    Enrollment.objects.filter(pk__in=proposed).update(status=State.PROPOSED)
    context, page = _signed_in(browser, live_server, DESKTOP, "city_admin")
    page.goto(f"{live_server.url}/campaigns/c/commendation/")
    page.uncheck(f"input[name=enrollment][value='{proposed[1]}']")
    page.locator("[data-testid=proposed] button[value=decline]").click()
    _beside(page, "#comment")
    expect(page.locator(f"input[name=enrollment][value='{proposed[0]}']")).to_be_checked()
    expect(page.locator(f"input[name=enrollment][value='{proposed[1]}']")).not_to_be_checked()
    assert Enrollment.objects.filter(status=State.PROPOSED).count() == 2
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_refused_veto_finding_keeps_its_text(scoring, browser, live_server, viewport):
    context, page = _signed_in(browser, live_server, viewport, "fp0")
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/score/C111/")
    text = "发现" * 1001  # past the 2,000 characters a finding may hold
    box = page.locator("#veto-V1-text")
    box.evaluate("(b, t) => { b.removeAttribute('maxlength'); b.value = t; }", text)
    page.locator("[data-veto=V1] form button").click()
    page.wait_for_url("**/score/C111/#vetoes")
    _beside(page, "#veto-V1-text")
    expect(page.locator("#veto-V1-text")).to_have_value(text)
    assert not VetoFinding.objects.exists()
    context.close()


def test_a_self_assessment_card_keeps_what_was_typed(scoring, browser, live_server):
    s = scoring
    context, page = _signed_in(browser, live_server, DESKTOP, "community_staff")
    page.goto(f"{live_server.url}/campaigns/c/self-assessment/?community=C111")
    a1 = s["items"]["A1"].pk
    page.fill(f"#i{a1}-explanation", "已建立台账")
    page.fill(f"#i{a1}-points", "十二")
    page.locator(f"#i{a1}-explanation").click()  # leaving the card sends it
    page.locator(f"#i{a1}-points").click()
    page.locator("h1").click()
    page.wait_for_selector("[data-testid=self-card][data-item=A1][data-state=error]")
    _beside(page, f"#i{a1}-points")
    expect(page.locator(f"#i{a1}-points")).to_have_value("十二")
    expect(page.locator(f"#i{a1}-explanation")).to_have_value("已建立台账")
    context.close()


def test_the_score_page_save_all_keeps_every_box(scoring, browser, live_server):
    context, page = _signed_in(browser, live_server, DESKTOP, "fp0")
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/score/C111/")
    a1 = page.locator("[data-testid=score-card][data-item=A1] input[name$=-points]")
    a2 = page.locator("[data-testid=score-card][data-item=A2] input[name$=-points]")
    a1.fill("999")
    a2.fill("三十")
    page.locator("[data-testid=save-all]").click()
    page.wait_for_selector("[data-item=A2] .is-invalid")
    expect(a1).to_have_value("999")
    expect(a2).to_have_value("三十")
    expect(page.locator("[data-item=A2] .is-invalid")).to_be_visible()
    assert not Score.objects.filter(points=999).exists()
    context.close()


def test_the_round_settings_keep_the_window_typed(scoring, browser, live_server):
    context, page = _signed_in(browser, live_server, DESKTOP, "city_admin")
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/")
    page.fill("#opens_on", "2026-08-01")
    page.fill("#closes_on", "2026-07-01")  # closes before it opens
    page.select_option("#combine_rule", "minimum")
    page.locator("[data-testid=round-form] button.btn-primary").click()
    expect(page.locator(".alert-danger").first).to_be_visible()
    expect(page.locator("#opens_on")).to_have_value("2026-08-01")
    expect(page.locator("#closes_on")).to_have_value("2026-07-01")
    expect(page.locator("#combine_rule")).to_have_value("minimum")
    context.close()
