"""A round's coverage cannot drop communities by accident (issue 16, item 7): the defaults are
shown ticked, each community says whether it is a default, added or left out, and a change that
takes communities out of the round is saved only once confirmed, on the page or the command."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from civicmark.assessments import panels
from civicmark.campaigns.models import Enrollment
from civicmark.core.models import AuditEvent
from tests.test_panels import configure, fresh


@pytest.fixture
def round2(scoring):  # noqa: ANN001, ANN201
    """The July round with the defaults: Community 111 and 112 are reported to the city (the
    default coverage), 121 and 211 are not."""
    round_ = scoring["round"]
    round_.covers.clear()
    Enrollment.objects.filter(community__code__in=["C111", "C112"]).update(status="reported")
    return fresh(round_)


def url(round_):  # noqa: ANN001, ANN201
    return reverse("round_detail", args=[round_.campaign.slug, round_.number])


def form(round_, *codes, **extra):  # noqa: ANN001, ANN003, ANN201
    enrollments = {e.community.code: e for e in round_.campaign.enrollments.all()}
    return {
        "opens_on": round_.opens_on.isoformat(),
        "closes_on": round_.closes_on.isoformat(),
        "combine_rule": round_.combine_rule,
        "lead": "",
        "covers": [str(enrollments[c].pk) for c in codes],
    } | extra


def rows(page: str) -> dict[str, tuple[bool, str]]:
    """Each community of the coverage table: (ticked, its badge's test id)."""
    table = page.split('data-testid="coverage"')[1].split("</table>")[0]
    found = {}
    for row in table.split("<tr>")[1:]:
        name = re.search(r"Community \d+", row)[0]
        badge = re.search(r'data-testid="(cover-[a-z]+)"', row)
        box = row.split("<label")[0]
        found[name] = (" checked" in box, badge[1] if badge else "")
    return found


def state(round_):  # noqa: ANN001, ANN201
    r = fresh(round_)
    return (
        sorted(r.covers.values_list("community__code", flat=True)),
        r.closes_on,
        AuditEvent.objects.filter(action="round.configured").count(),
    )


def test_it_shows_the_default_communities_ticked(round2, world, client_for):
    """The finding: every community started unticked, with a note that none ticked means the
    defaults, so ticking one silently dropped the others."""
    page = client_for(world.users["city_admin"]).get(url(round2)).content.decode()
    assert rows(page) == {
        "Community 111": (True, "cover-default"),
        "Community 112": (True, "cover-default"),
        "Community 121": (False, ""),
        "Community 211": (False, ""),
    }
    assert 'data-testid="coverage-help"' in page


def test_it_says_which_communities_the_lead_added_and_left_out(round2, world, client_for):
    e = {x.community.code: x for x in round2.campaign.enrollments.all()}
    configure(world.users["city_admin"], round2, covers=[e["C111"], e["C121"]])
    page = client_for(world.users["city_admin"]).get(url(round2)).content.decode()
    assert rows(page) == {
        "Community 111": (True, "cover-default"),
        "Community 112": (False, "cover-removed"),
        "Community 121": (True, "cover-added"),
        "Community 211": (False, ""),
    }


def test_an_unconfirmed_removal_changes_nothing_and_asks_first(round2, world, client_for):
    client = client_for(world.users["city_admin"])
    before = state(round2)
    response = client.post(url(round2), form(round2, "C111", "C121", closes_on="2026-07-25"))
    assert response.status_code == 200
    page = response.content.decode()
    removing = page.split('data-testid="cover-removing"')[1].split("</ul>")[0]
    adding = page.split('data-testid="cover-adding"')[1].split("</ul>")[0]
    assert "Community 112" in removing and "Community 111" not in removing
    assert "Community 121" in adding
    assert state(round2) == before  # no list, no new date, no audit event
    # Everything typed rides along to the confirmation.
    assert 'name="closes_on" value="2026-07-25"' in page


def test_going_back_from_the_confirmation_keeps_the_ticks_and_dates(round2, world, client_for):
    client = client_for(world.users["city_admin"])
    before = state(round2)
    response = client.post(
        url(round2), form(round2, "C111", "C121", closes_on="2026-07-25", action="back")
    )
    page = response.content.decode()
    assert rows(page) == {
        "Community 111": (True, "cover-default"),
        "Community 112": (False, "cover-default"),  # unticked, not yet saved: still a default
        "Community 121": (True, ""),
        "Community 211": (False, ""),
    }
    assert 'value="2026-07-25"' in page
    assert state(round2) == before


def test_a_confirmed_removal_is_saved(round2, world, client_for):
    client = client_for(world.users["city_admin"])
    response = client.post(url(round2), form(round2, "C111", confirm_removal="1"))
    assert response.status_code == 302
    assert state(round2)[0] == ["C111"]
    assert panels.covered_ids(fresh(round2)) == {
        round2.campaign.enrollments.get(community__code="C111").pk
    }


def test_adding_a_community_keeps_the_defaults_and_needs_no_confirmation(round2, world, client_for):
    client = client_for(world.users["city_admin"])
    response = client.post(url(round2), form(round2, "C111", "C112", "C121"))
    assert response.status_code == 302
    assert state(round2)[0] == ["C111", "C112", "C121"]


def test_ticks_equal_to_the_defaults_keep_following_the_workflow(round2, world, client_for):
    client = client_for(world.users["city_admin"])
    assert client.post(url(round2), form(round2, "C111", "C112")).status_code == 302
    assert state(round2)[0] == []  # no list stored
    Enrollment.objects.filter(community__code="C121").update(status="reported")
    covered = set(panels.covered(fresh(round2)).values_list("community__code", flat=True))
    assert covered == {"C111", "C112", "C121"}


def test_the_command_refuses_an_unconfirmed_removal_naming_what_it_would_drop(round2, world):
    before = state(round2)
    command = ["round", "cover", "c", "2", "--communities", "C111", "--user", "city_admin"]
    with pytest.raises(CommandError, match="Community 112"):
        call_command(*command, stdout=StringIO())
    assert state(round2) == before
    call_command(*command, "--confirm-removal", stdout=StringIO())
    assert state(round2)[0] == ["C111"]
