"""A county officer reports the communities that passed his pre-acceptance to the city, with the
county's statement, on the page of reports (ADR 25), and downloads the report it made."""

from __future__ import annotations

import pytest

from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Enrollment
from civicmark.results.models import UpwardReport
from tests.test_workflow import pass_round


@pytest.mark.django_db(transaction=True)
def test_a_county_officer_reports_his_communities(scoring, world, sign_in, live_server):
    Enrollment.objects.filter(campaign=scoring["campaign"]).update(status=State.COUNTY_PRE_ACCEPTED)
    for code in ("C111", "C112", "C121"):
        pass_round(scoring, 1, code)
    page = sign_in("county_officer")
    page.goto(f"{live_server.url}/campaigns/c/reports-to-city/")
    boxes = page.locator("[data-testid=report-form] input[type=checkbox]")
    assert boxes.count() == 3  # the communities of his county only, every one ticked
    page.get_by_label("Community 112").uncheck()
    page.click("[data-testid=report-form] button")
    # Without the statement nothing is reported, and his ticks are kept.
    page.wait_for_selector("[data-testid=statement-error]")
    assert not page.get_by_label("Community 112").is_checked()
    assert not UpwardReport.objects.exists()
    page.fill("textarea", "经县级预验收，以下社区达到示范社区标准，现予上报。")
    page.click("[data-testid=report-form] button")
    page.wait_for_selector("[data-testid=report-documents]")
    assert page.locator("[data-testid=reported-communities] tbody tr").count() == 2
    with page.expect_download() as download:
        page.locator("[data-testid=report-documents] a").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert set(
        Enrollment.objects.filter(status=State.REPORTED).values_list("community__code", flat=True)
    ) == {"C111", "C121"}
