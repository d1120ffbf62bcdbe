"""Issue 16 item 5 in a browser: a county officer starts a campaign on a phone and a desktop by
typing names (the running county, the pilots), leaving the identifier to be made from the name;
a name out of his reach is refused with everything typed kept, and the form fits the phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicmark.campaigns.models import Campaign
from civicmark.divisions.models import Department
from civicmark.standards import formats
from civicmark.standards.services import standard_import
from tests.factories import build_world
from tests.test_standards import DEPARTMENTS, default_yaml

SHOTS = Path("/tmp/names")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 900)])
def test_a_campaign_is_started_by_names_on_a_phone_and_a_desktop(
    sign_in, live_server, width, height
):
    world = build_world()
    for code in DEPARTMENTS:
        Department.objects.get_or_create(
            code=code, defaults={"name": code, "division": world.d["C"]}
        )
    standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=world.d["C"], publish=True
    )
    page = sign_in("county_officer")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/campaigns/")
    page.fill("#id_name", "安平县创建示范社区")
    page.fill("#id_year", "2027")
    page.fill("#id_division", "County One")
    page.select_option("#id_standard", index=1)
    page.fill("#id_pilots", "Community 112\nCommunity 211")  # the second is K2's: not his
    page.click("form.col-md-6 button.btn-primary")
    page.wait_for_selector("text=“Community 211”")
    assert not Campaign.objects.exists()
    assert page.input_value("#id_name") == "安平县创建示范社区"
    assert page.input_value("#id_division") == "County One"  # as typed
    assert page.input_value("#id_pilots") == "Community 112\nCommunity 211"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"campaign-form-error-{width}.png"), full_page=True)
    page.fill("#id_pilots", "Community 112")
    page.click("form.col-md-6 button.btn-primary")
    page.wait_for_url("**/campaigns/k1-2027/")
    campaign = Campaign.objects.get()
    assert campaign.slug == "k1-2027" and campaign.division == world.d["K1"]
    assert list(
        campaign.enrollments.filter(is_pilot=True).values_list("community__code", flat=True)
    ) == ["C112"]
