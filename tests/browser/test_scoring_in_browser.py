"""An assessor scores his items; the result page shows the veto and every lost point."""

from __future__ import annotations

from decimal import Decimal

import pytest

from civicmark.assessments.services import veto_finding_record
from civicmark.scoring.models import Score


@pytest.mark.django_db(transaction=True)
def test_an_assessor_scores_and_the_result_explains_itself(scoring, world, sign_in, live_server):
    page = sign_in("fp0")
    page.goto(f"{live_server.url}/campaigns/c/rounds/2/score/")
    page.locator("[data-testid=score-communities] tr", has_text="Community 111").locator(
        "a"
    ).click()
    for code, points, reason in (
        ("A1", "26", "活动记录缺两个月"),
        ("A2", "30", ""),
        ("B1", "20", ""),
        ("B2", "15", "满意率不足"),
    ):
        row = page.locator(f"[data-testid=score-card][data-item={code}]")
        row.locator("input[name$=-points]").fill(points)
        row.locator("textarea[name$=-reason]").fill(reason)
    page.click("[data-testid=save-all]")
    page.wait_for_selector(".alert-success")
    assert Score.objects.filter(assessor__username="fp0").count() == 4
    veto_finding_record(
        actor=scoring["assessors"][0],
        round_=scoring["round"],
        enrollment=scoring["enrollments"]["C111"],
        veto=scoring["standard"].vetoes.get(),
        reason="发现违反政策生育",
    )
    page.click("text=结果")
    summary = page.locator("[data-testid=result-summary]").inner_text()
    assert "91.00" in summary and "一票否决" in summary
    assert "发现违反政策生育" in page.locator("[data-testid=vetoes]").inner_text()
    lost = page.locator("[data-testid=lost-points]").inner_text()
    assert "活动记录缺两个月" in lost and "满意率不足" in lost and "−4" in lost and "−5" in lost
    assert Score.objects.get(item__code="B2").points == Decimal(15)
