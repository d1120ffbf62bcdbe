"""People: created within scope, one-time password links, bulk import."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from civicmark.accounts.models import RoleAssignment, User
from civicmark.accounts.services import users_import
from civicmark.core.errors import ImportRefused
from civicmark.core.models import AuditEvent

USERS = "username,name,role,division_code,department_code\n"


def test_a_town_officer_creates_community_staff_who_sets_a_password_once(world, client_for):
    client = client_for(world.users["town_officer"])
    response = client.post(
        reverse("person_create"),
        {
            "username": "newstaff",
            "full_name": "新人",
            "role": "community_staff",
            "division": "C112",
        },
    )
    assert response.status_code == 200
    link = re.search(
        r"https?://[^\s<]+/accounts/set-password/[^\s<]+/", response.content.decode()
    ).group(0)
    person = User.objects.get(username="newstaff")
    assert not person.has_usable_password()
    assert AuditEvent.objects.filter(action="person.created", object_ref="newstaff").exists()
    path = link[link.index("/accounts/") :]
    client.logout()
    page = client.get(path, follow=True)  # Django moves the token into the session first
    assert page.status_code == 200 and b"password" in page.content.lower()
    form_url = page.redirect_chain[-1][0]
    done = client.post(
        form_url, {"new_password1": "Lotus-pond-2026!", "new_password2": "Lotus-pond-2026!"}
    )
    assert done.status_code == 302
    client.post(reverse("login"), {"username": "newstaff", "password": "Lotus-pond-2026!"})
    assert client.session["_auth_user_id"] == str(person.pk)
    client.logout()
    again = client.get(path, follow=True)
    assert "no longer works" in again.content.decode() or "已失效" in again.content.decode()


def test_a_town_officer_cannot_create_people_elsewhere_or_above(world, client_for):
    client = client_for(world.users["town_officer"])
    for data in (
        {"role": "community_staff", "division": "C211"},
        {"role": "county_officer", "division": "K1"},
        {"role": "town_officer", "division": "T11"},
    ):
        client.post(reverse("person_create"), {"username": "sneaky", "full_name": "x", **data})
    assert not User.objects.filter(username="sneaky").exists()
    assert not AuditEvent.objects.filter(action="person.created").exists()


def test_a_county_officer_grants_and_revokes_roles_in_his_county(world, client_for):
    client = client_for(world.users["county_officer"])
    staff = world.users["community_staff"]
    client.post(
        reverse("role_grant", args=[staff.public_id]), {"role": "viewer", "division": "T12"}
    )
    grant = RoleAssignment.objects.get(user=staff, role="viewer")
    client.post(reverse("role_grant", args=[staff.public_id]), {"role": "viewer", "division": "K2"})
    assert RoleAssignment.objects.filter(user=staff).count() == 2
    client.post(reverse("role_revoke", args=[staff.public_id, grant.public_id]))
    assert not RoleAssignment.objects.filter(pk=grant.pk).exists()
    assert AuditEvent.objects.filter(action__in=["role.granted", "role.revoked"]).count() == 2


def test_an_assessor_needs_a_department(world):
    with pytest.raises(ImportRefused) as refused:
        users_import(actor=None, data=(USERS + "a1,甲,assessor,K1,\n").encode(), filename="u.csv")
    assert refused.value.errors[0].row == 2


def test_importing_people_is_all_or_nothing_and_idempotent(world):
    good = USERS + "a1,甲,assessor,K1,K1PSB\nv1,乙,viewer,K1,\na1,甲,viewer,T11,\n"
    result = users_import(actor=world.users["county_officer"], data=good.encode(), filename="u.csv")
    assert [u.username for u, _ in result.created] == ["a1", "v1"] and result.granted == [
        "a1:viewer@T11"
    ]
    assert all("/accounts/set-password/" in link for _, link in result.created)
    events = AuditEvent.objects.count()
    again = users_import(actor=world.users["county_officer"], data=good.encode(), filename="u.csv")
    assert (again.created, again.granted, again.unchanged) == ([], [], 3)
    assert AuditEvent.objects.count() == events
    bad = USERS + "b1,丙,viewer,K1,\nb2,丁,wizard,K1,\nb3,,viewer,NOPE,\nb4,戊,viewer,K2,\n"
    with pytest.raises(ImportRefused) as refused:
        users_import(actor=world.users["county_officer"], data=bad.encode(), filename="u.csv")
    assert {(e.row, e.column) for e in refused.value.errors} == {
        (3, "role"),
        (4, "name"),
        (4, "division_code"),
        (5, "division_code"),  # K2 is outside his area: unknown to him, as a code that is not
    }
    assert not User.objects.filter(username__startswith="b").exists()


def test_the_import_command_prints_each_link_once(world, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "u.csv"
    path.write_text(USERS + "c1,甲,viewer,K1,\n", encoding="utf-8")
    out = StringIO()
    call_command("import-users", str(path), stdout=out)
    assert re.search(r"^c1\thttp://\S+/accounts/set-password/", out.getvalue(), re.M)
    out = StringIO()
    call_command("import-users", str(path), stdout=out)
    assert "set-password" not in out.getvalue()


def test_with_too_many_divisions_to_list_the_code_is_typed(world, client_for, monkeypatch):
    """A province's officer reaches thousands of divisions: the form asks for the code in a text
    box instead of printing every one, and checks it against the same scope."""
    from civicmark.core import uploads

    monkeypatch.setattr(uploads, "CHOICES_MAX", 2)
    client = client_for(world.users["town_officer"])
    page = client.get(reverse("person_create")).content.decode()
    assert re.search(r'<input type="text" name="division"', page)
    assert '<option value="C112"' not in page
    refused = client.post(
        reverse("person_create"),
        {"username": "far", "full_name": "远", "role": "community_staff", "division": "C211"},
    )
    assert refused.status_code == 200 and not User.objects.filter(username="far").exists()
    client.post(
        reverse("person_create"),
        {"username": "near", "full_name": "近", "role": "community_staff", "division": "C112"},
    )
    assert RoleAssignment.objects.filter(user__username="near", division__code="C112").exists()


def test_an_import_refusal_does_not_confirm_a_division_outside_the_area(world):
    """The review told existing codes from missing ones by the refusal: 'you may not grant at
    C211' against 'unknown division code'."""
    data = USERS + "x1,甲,viewer,C211,\nx2,乙,viewer,C999,\n"
    with pytest.raises(ImportRefused) as refused:
        users_import(actor=world.users["county_officer"], data=data.encode(), filename="u.csv")
    messages = [
        e.message.replace("C211", "CODE").replace("C999", "CODE") for e in refused.value.errors
    ]
    assert messages[0] == messages[1]
