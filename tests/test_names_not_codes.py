"""Issue 16 item 5: names, not codes. Every box that takes a community, division or department
reads a name as well as a code (civicmark.core.lookup); a name two share is refused with the
matches listed; the suggestions come only from what the person may read; a campaign's
identifier is made from its name when none is typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicmark.accounts.models import RoleAssignment
from civicmark.campaigns.models import Attendance, Campaign, Meeting
from civicmark.campaigns.services import campaign_create
from civicmark.divisions.models import Department, Division
from civicmark.standards import formats
from civicmark.standards.services import standard_import
from tests.factories import division
from tests.test_standards import default_yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client_for, settings):  # noqa: ANN001, ANN201
    """Signed in and reading in English: the messages asserted are the English ones."""

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


@pytest.fixture
def standard(city):  # noqa: ANN001, ANN201
    return standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )[0]


@pytest.fixture
def campaign(world, standard):  # noqa: ANN001, ANN201
    return campaign_create(
        actor=world.users["county_officer"],
        slug="k1-2026",
        name="K1 2026",
        year=2026,
        division=world.d["K1"],
        standard=standard,
    )


def _campaign_form(standard, **typed):  # noqa: ANN001, ANN003, ANN202
    return {
        "name": "K1 2028",
        "year": 2028,
        "division": "K1",
        "standard": str(standard.public_id),
    } | typed


# -- the findings -------------------------------------------------------------------------------


def test_it_takes_pilot_communities_by_name(world, standard, client_for):
    # Before: "Not communities you can see: Community" (the box took codes only).
    client = client_for(world.users["county_officer"])
    response = client.post(
        reverse("campaign_list"),
        _campaign_form(standard, slug="k1-2028", pilots="Community 112\nC121"),
    )
    assert response.status_code == 302
    pilots = Campaign.objects.get(slug="k1-2028").enrollments.filter(is_pilot=True)
    assert set(pilots.values_list("community__code", flat=True)) == {"C112", "C121"}


def test_it_takes_the_running_division_by_name(world, standard, client_for):
    client = client_for(world.users["county_officer"])
    response = client.post(
        reverse("campaign_list"), _campaign_form(standard, slug="k1-2028", division="County One")
    )
    assert response.status_code == 302
    assert Campaign.objects.get(slug="k1-2028").division == world.d["K1"]


def test_it_makes_the_campaigns_identifier_from_its_name(world, standard, city, client_for):
    # Before: the identifier (标识) had to be typed, in Latin letters, by someone who thinks of
    # the campaign as "安平区2026年创建".
    client = client_for(world.users["county_officer"])
    assert client.post(reverse("campaign_list"), _campaign_form(standard)).status_code == 302
    assert Campaign.objects.filter(slug="k1-2028", name="K1 2028").exists()
    # The same name again: a new identifier, not a refusal.
    assert client.post(reverse("campaign_list"), _campaign_form(standard)).status_code == 302
    assert Campaign.objects.filter(slug="k1-2028-2").exists()
    # A name in Chinese has no Latin letters: the running division's code and the year.
    chinese = _campaign_form(standard, name="安平区创建示范社区")
    assert client.post(reverse("campaign_list"), chinese).status_code == 302
    assert Campaign.objects.get(name="安平区创建示范社区").slug == "k1-2028-3"


def test_it_keeps_a_typed_identifier_and_refuses_a_taken_one_keeping_every_typed_value(
    world, standard, campaign, client_for
):
    client = client_for(world.users["county_officer"])
    typed = _campaign_form(standard, name="安平 2028", slug="k1-2026", pilots="Community 112")
    page = client.post(reverse("campaign_list"), typed)
    html = page.content.decode()
    assert page.status_code == 200 and Campaign.objects.count() == 1
    assert "k1-2026" in html and "already uses" in html
    assert 'value="安平 2028"' in html and "Community 112</textarea>" in html
    assert 'value="County One (K1)"' in html  # the division shown back by name
    ok = client.post(reverse("campaign_list"), typed | {"slug": "anping-2028"})
    assert ok.status_code == 302 and Campaign.objects.filter(slug="anping-2028").exists()


def test_it_takes_meeting_invitees_by_community_name(world, campaign, client_for):
    # Before: "Unknown community codes: Community." for "Community 112 Li Lei".
    client = client_for(world.users["county_officer"])
    response = client.post(
        reverse("meeting_list", args=[campaign.slug]),
        {
            "kind": "mobilisation",
            "title": "Kick-off",
            "held_on": "2026-07-02",
            "host": "County One",
            "expected": "Community 112 Li Lei\nC111 Secretary Wang\nCommunity 121 Director",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get(title="Kick-off")
    assert meeting.host == world.d["K1"]
    assert set(
        Attendance.objects.filter(meeting=meeting).values_list("community__code", "name")
    ) == {
        ("C112", "Li Lei"),
        ("C111", "Secretary Wang"),
        ("C121", "Director"),
    }


def test_it_grants_a_role_by_division_and_department_name(world, client_for):
    staff = world.users["community_staff"]
    client = client_for(world.users["county_officer"])
    client.post(
        reverse("role_grant", args=[staff.public_id]),
        {"role": "assessor", "division": "County One", "department": "K1 Public Security"},
    )
    grant = RoleAssignment.objects.get(user=staff, role="assessor")
    assert grant.division == world.d["K1"] and grant.department == world.dept["K1PSB"]


# -- ambiguity and near misses ------------------------------------------------------------------


def test_a_shared_name_is_refused_with_the_matches_listed_and_nothing_written(
    world, standard, client_for
):
    division("C113", "Community 111", "community", world.d["T11"])  # a namesake in the town
    client = client_for(world.users["county_officer"])
    page = client.post(
        reverse("campaign_list"), _campaign_form(standard, pilots="Community 111")
    ).content.decode()
    assert not Campaign.objects.exists()
    assert "names several" in page
    assert "Community 111 (C111)" in page and "Community 111 (C113)" in page
    # Picking one by its code, or by the "name (code)" a suggestion fills in, is taken.
    ok = client.post(
        reverse("campaign_list"), _campaign_form(standard, pilots="Community 111 (C113)")
    )
    assert ok.status_code == 302
    pilots = Campaign.objects.get().enrollments.filter(is_pilot=True)
    assert list(pilots.values_list("community__code", flat=True)) == ["C113"]


def test_part_of_a_name_is_a_hint_never_a_choice(world, client_for):
    staff = world.users["community_staff"]
    client = client_for(world.users["county_officer"])
    response = client.post(
        reverse("role_grant", args=[staff.public_id]),
        {"role": "viewer", "division": "Town 1"},
        follow=True,
    )
    assert not RoleAssignment.objects.filter(user=staff, role="viewer").exists()
    html = response.content.decode()
    assert "Did you mean" in html and "Town 11 (T11)" in html and "Town 12 (T12)" in html
    # A lone letter that is no one's code does not become the one name holding it.
    response = client.post(
        reverse("department_create"), {"code": "CX", "name": "x", "division": "One"}
    )
    assert response.status_code == 200 and "Did you mean" in response.content.decode()


def test_a_hidden_character_in_a_name_box_is_refused_not_a_server_error(world, client_for):
    # Found by the form fuzz on PostgreSQL: a NUL typed into the box went into the look-up's
    # query, and PostgreSQL refuses NUL in any text (a server error; SQLite merely found nothing).
    client = client_for(world.users["county_officer"])
    before = Department.objects.count()
    response = client.post(
        reverse("department_create"), {"code": "CX", "name": "x", "division": "Town 11\x00"}
    )
    assert response.status_code == 200
    assert "hidden characters" in response.content.decode()
    assert Department.objects.count() == before
    found = client.get(reverse("name_search"), {"q": "Town\x00"})
    assert found.status_code == 200


# -- the suggestions' scope ---------------------------------------------------------------------


def test_the_suggestions_offer_only_what_the_person_may_read(world, client_for):
    url = reverse("name_search")
    own = client_for(world.users["county_officer"]).get(
        url, {"kind": "division", "field": "division", "division": "Community"}
    )
    assert "Community 111 (C111)" in own.content.decode()
    assert "Community 211" not in own.content.decode()  # the other county's
    other = client_for(world.users["other_county_officer"])
    for typed in ("Community 111", "C111", "Town 11", "County One", "K1"):
        found = other.get(url, {"kind": "division", "field": "q", "q": typed}).content.decode()
        assert "C111" not in found and "T11" not in found and "K1)" not in found, typed
    departments = other.get(url, {"kind": "department", "q": "K1"}).content.decode()
    assert "K1PSB" not in departments
    assert "K2PSB" in other.get(url, {"kind": "department", "q": "K2"}).content.decode()
    # Community staff see their own community only; a level narrows the list.
    staff = client_for(world.users["community_staff"])
    mine = staff.get(url, {"kind": "division", "q": "Community"}).content.decode()
    assert "C111" in mine and "C112" not in mine
    towns = client_for(world.users["county_officer"]).get(
        url, {"kind": "division", "level": "town", "q": "1"}
    )
    assert "T11" in towns.content.decode() and "C111" not in towns.content.decode()


def test_the_suggestions_ask_for_a_signed_in_person(client):  # noqa: ANN001
    response = client.get(reverse("name_search"), {"q": "Community"})
    assert response.status_code == 302 and "Community" not in response.content.decode()


def test_a_box_with_few_choices_lists_them_and_a_long_one_searches(world, client_for, monkeypatch):
    from civicmark.core import lookup

    client = client_for(world.users["county_officer"])
    page = client.get(reverse("department_create")).content.decode()
    assert '<option value="County One (K1)">' in page and "hx-get" not in page
    monkeypatch.setattr(lookup, "PRELISTED", 0)
    page = client.get(reverse("department_create")).content.decode()
    assert 'hx-get="/names/"' in page and '<option value="County One (K1)">' not in page
    assert Division.objects.filter(code="K1").exists()
