"""A county officer reports the communities that passed his pre-acceptance to the city."""

from __future__ import annotations

import pytest

from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Enrollment
from tests.test_workflow import pass_round


@pytest.mark.django_db(transaction=True)
def test_a_county_officer_reports_his_communities(scoring, world, sign_in, live_server):
    Enrollment.objects.filter(campaign=scoring["campaign"]).update(status=State.COUNTY_PRE_ACCEPTED)
    for code in ("C111", "C112", "C121"):
        pass_round(scoring, 1, code)
    page = sign_in("county_officer")
    page.goto(f"{live_server.url}/campaigns/c/acceptance/")
    rows = page.locator("[data-testid=enrollments] tbody tr")
    assert rows.count() == 3  # the communities of his county only
    for name in ("Community 111", "Community 112", "Community 121"):
        page.get_by_label(name).check()
    page.select_option("#to", State.REPORTED)
    page.click("button:has-text('执行')")
    page.wait_for_selector("[role=status]")
    assert page.locator("[data-status=reported]").count() == 3
    assert set(
        Enrollment.objects.filter(status=State.REPORTED).values_list("community__code", flat=True)
    ) == {"C111", "C112", "C121"}
