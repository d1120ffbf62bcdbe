"""Every <input type=date> holds its date as YYYY-MM-DD, whatever the language shows elsewhere:
a browser leaves a date box empty when its value is written any other way (issue 16)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from civicmark.campaigns.views import MeetingForm, PhaseDateForm
from civicmark.divisions.models import Division

from .test_campaigns import campaign  # noqa: F401  (the fixture)


def _date_values(html: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<input[^>]*type=\"date\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        found[name[1] if name else "?"] = value[1] if value else ""
    return found


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_fills_the_phase_dates_with_the_stored_dates(
    campaign,  # noqa: F811
    world,
    client_for,
    language,
):
    phase = campaign.phases.get(key="training")
    phase.starts_on, phase.due_on = date(2026, 6, 25), date(2026, 7, 10)
    phase.save()
    client = client_for(world.users["county_officer"])
    with translation.override(language):
        page = client.get(
            reverse("phase_edit", args=[campaign.slug, "training"]),
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode()
    assert _date_values(page) == {"starts_on": "2026-06-25", "due_on": "2026-07-10"}


def test_it_shows_back_a_date_typed_with_slashes_in_the_date_box(
    campaign,  # noqa: F811
    world,
    client_for,
):
    """A phase that would end before it starts is refused; both dates come back, as the date
    boxes can show them."""
    client = client_for(world.users["county_officer"])
    page = client.post(
        reverse("phase_edit", args=[campaign.slug, "training"]),
        {"starts_on": "2026/7/20", "due_on": "2026/06/25"},
    ).content.decode()
    assert _date_values(page) == {"starts_on": "2026-07-20", "due_on": "2026-06-25"}
    assert campaign.phases.get(key="training").starts_on == date(2026, 6, 25)  # unchanged


def test_it_shows_text_that_is_no_date_as_typed_with_its_error():
    form = PhaseDateForm({"starts_on": "25 June", "due_on": "2026-07-10"})
    assert not form.is_valid()
    assert 'value="25 June"' in str(form["starts_on"])
    assert "25 June" in form.errors["starts_on"][0]


def test_the_meeting_date_box_takes_its_initial_date(db):
    form = MeetingForm(
        initial={"held_on": date(2026, 7, 2)},
        hosts=Division.objects.none(),
        communities=Division.objects.none(),
    )
    assert _date_values(str(form["held_on"])) == {"held_on": "2026-07-02"}
