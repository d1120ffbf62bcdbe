"""Every page against every persona: 200 inside the scope, 404 outside, and nothing changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicmark.core.models import AuditEvent
from civicmark.divisions.models import CommunityProfile, Department, WorkingGroupMember

from .test_authz_matrix import EDITS_PROFILES, PERSONAS, SEES_DIVISIONS, SEES_GROUPS, SEES_PEOPLE


@pytest.mark.parametrize("persona", PERSONAS)
def test_division_pages_answer_404_outside_the_scope(world, client_for, persona):
    client = client_for(world.users[persona])
    for code in world.d:
        response = client.get(reverse("division_detail", args=[code]))
        assert response.status_code == (200 if code in SEES_DIVISIONS[persona] else 404), code
        edit = client.get(reverse("profile_edit", args=[code]))
        assert edit.status_code == (200 if code in EDITS_PROFILES[persona] else 404), code


@pytest.mark.parametrize("persona", PERSONAS)
def test_group_and_people_pages_answer_404_outside_the_scope(world, client_for, persona):
    client = client_for(world.users[persona])
    for key, group in world.groups.items():
        response = client.get(reverse("group_detail", args=[group.public_id]))
        assert response.status_code == (200 if key in SEES_GROUPS[persona] else 404), key
    managers = {"city_admin", "county_officer", "town_officer"}
    for name, user in world.users.items():
        response = client.get(reverse("person_detail", args=[user.public_id]))
        expected = 200 if persona in managers and name in SEES_PEOPLE[persona] else 404
        assert response.status_code == expected, name


@pytest.mark.parametrize(
    "persona", ["town_officer", "community_staff", "assessor", "viewer", "nobody"]
)
def test_it_refuses_a_profile_change_outside_the_scope_and_changes_nothing(
    world, client_for, persona
):
    client = client_for(world.users[persona])
    before = CommunityProfile.objects.get(division__code="C211").households
    events = AuditEvent.objects.count()
    response = client.post(reverse("profile_edit", args=["C211"]), {"households": 1})
    assert response.status_code == 404
    assert CommunityProfile.objects.get(division__code="C211").households == before
    assert AuditEvent.objects.count() == events


def test_it_saves_a_profile_with_an_audit_event(world, client_for):
    client = client_for(world.users["community_staff"])
    response = client.post(
        reverse("profile_edit", args=["C111"]),
        {
            "committee": "C111 committee",
            "households": 1234,
            "residents": 3456,
            "staff": 7,
            "note": "<b>x</b>",
        },
    )
    assert response.status_code == 302
    profile = CommunityProfile.objects.get(division__code="C111")
    assert (profile.households, profile.committee) == (1234, "C111 committee")
    event = AuditEvent.objects.get(action="profile.updated")
    assert event.actor == world.users["community_staff"]
    assert event.before["households"] == 1000 and event.after["households"] == 1234
    page = client.get(reverse("division_detail", args=["C111"])).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in page  # escaped, never rendered as markup


def test_a_form_cannot_move_a_profile_to_another_community(world, client_for):
    client = client_for(world.users["community_staff"])
    client.post(
        reverse("profile_edit", args=["C111"]), {"division": world.d["C211"].pk, "households": 5}
    )
    assert CommunityProfile.objects.get(division__code="C211").households == 1000


def test_it_refuses_a_member_from_another_county(world, client_for):
    client = client_for(world.users["county_officer"])
    outsider = world.users["other_county_officer"]
    group = world.groups["K1"]
    count = WorkingGroupMember.objects.count()
    response = client.post(
        reverse("group_detail", args=[group.public_id]), {"user": outsider.public_id, "name": "x"}
    )
    assert response.status_code == 200  # the form says the choice is not available
    assert WorkingGroupMember.objects.count() == count


def test_a_town_officer_cannot_remove_members_of_the_county_group(world, client_for):
    member = world.groups["K1"].members.get()
    client = client_for(world.users["town_officer"])
    response = client.post(
        reverse("group_member_remove", args=[world.groups["K1"].public_id, member.public_id])
    )
    assert response.status_code == 404
    assert WorkingGroupMember.objects.filter(pk=member.pk).exists()


def test_department_editing_is_for_city_and_county(world, client_for):
    assert (
        client_for(world.users["town_officer"]).get(reverse("department_create")).status_code == 404
    )
    client = client_for(world.users["county_officer"])
    assert client.get(reverse("department_edit", args=["K2PSB"])).status_code == 404
    assert (
        client.get(reverse("department_edit", args=["FP"])).status_code == 404
    )  # city's, visible but not his
    response = client.post(
        reverse("department_create"), {"code": "K1ORG", "name": "K1 Organisation", "division": "K1"}
    )
    assert response.status_code == 302
    assert Department.objects.get(code="K1ORG").division == world.d["K1"]
    response = client.post(
        reverse("department_create"), {"code": "CX", "name": "x", "division": "C"}
    )
    assert response.status_code == 200 and not Department.objects.filter(code="CX").exists()


@pytest.mark.parametrize("name", ["home", "division_list", "department_list", "group_list"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_role_opens_its_own_pages(world, client_for, persona, name):
    assert client_for(world.users[persona]).get(reverse(name)).status_code == 200


@pytest.mark.parametrize(
    "name", ["person_list", "person_create", "person_import", "audit_list", "division_import"]
)
@pytest.mark.parametrize("persona", PERSONAS)
def test_administration_pages_are_for_managers(world, client_for, persona, name):
    managers = {"city_admin", "county_officer", "town_officer"}
    status = client_for(world.users[persona]).get(reverse(name)).status_code
    assert status == (200 if persona in managers else 404)


@pytest.mark.parametrize("name", ["home", "division_list", "person_list", "audit_list"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
