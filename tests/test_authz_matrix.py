"""Every role against every kind of object, allowed and refused, through the one authorization layer."""

from __future__ import annotations

import pytest
from django.db import transaction

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment, User
from civicmark.core import audit
from civicmark.core.models import AuditEvent

PERSONAS = [
    "city_admin",
    "county_officer",
    "town_officer",
    "community_staff",
    "assessor",
    "viewer",
    "nobody",
]
K1_TREE = {"K1", "T11", "T12", "C111", "C112", "C121"}
ALL = {"C", "K1", "K2", "T11", "T12", "T21", "C111", "C112", "C121", "C211"}

SEES_DIVISIONS = {
    "city_admin": ALL,
    "county_officer": K1_TREE,
    "town_officer": {"T11", "C111", "C112"},
    "community_staff": {"C111"},
    "assessor": K1_TREE,
    "viewer": K1_TREE,
    "nobody": set(),
}
SEES_DEPARTMENTS = {
    "city_admin": {"FP", "K1PSB", "K2PSB"},
    "county_officer": {"FP", "K1PSB"},
    "town_officer": {"FP", "K1PSB"},
    "community_staff": {"FP", "K1PSB"},
    "assessor": {"FP", "K1PSB"},
    "viewer": {"FP", "K1PSB"},
    "nobody": set(),
}
SEES_GROUPS = {
    "city_admin": {"K1", "K2", "T11", "T21"},
    "county_officer": {"K1", "T11"},
    "town_officer": {"T11"},
    "community_staff": set(),
    "assessor": {"K1", "T11"},
    "viewer": {"K1", "T11"},
    "nobody": set(),
}
K1_PEOPLE = {
    "county_officer",
    "town_officer",
    "community_staff",
    "assessor",
    "viewer",
    "other_town_officer",
}
SEES_PEOPLE = {
    "city_admin": K1_PEOPLE | {"city_admin", "other_county_officer", "other_staff"},
    "county_officer": K1_PEOPLE,
    "town_officer": {"town_officer", "community_staff"},
    "community_staff": {"community_staff"},
    "assessor": {"assessor"},
    "viewer": {"viewer"},
    "nobody": {"nobody"},
}
SEES_ROLES = {  # role assignments, by holder
    "city_admin": SEES_PEOPLE["city_admin"],
    "county_officer": K1_PEOPLE,
    "town_officer": {"town_officer", "community_staff"},
    "community_staff": set(),
    "assessor": set(),
    "viewer": set(),
    "nobody": set(),
}
CHANGES_DIVISIONS = {
    "city_admin": ALL - {"C"},
    "county_officer": K1_TREE - {"K1"},
    "town_officer": {"C111", "C112"},
    "community_staff": set(),
    "assessor": set(),
    "viewer": set(),
    "nobody": set(),
}
EDITS_PROFILES = {
    "city_admin": {"C111", "C112", "C121", "C211"},
    "county_officer": {"C111", "C112", "C121"},
    "town_officer": {"C111", "C112"},
    "community_staff": {"C111"},
    "assessor": set(),
    "viewer": set(),
    "nobody": set(),
}
MANAGES_DEPARTMENTS_OF = {
    "city_admin": {"C", "K1", "K2"},
    "county_officer": {"K1"},
}
MANAGES_GROUPS_OF = {
    "city_admin": {"C", "K1", "K2", "T11", "T12", "T21"},
    "county_officer": {"K1", "T11", "T12"},
    "town_officer": {"T11"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_scopes_every_kind_of_object(world, persona):
    user = world.users[persona]
    assert (
        set(authz.divisions_for_user(user).values_list("code", flat=True))
        == SEES_DIVISIONS[persona]
    )
    assert (
        set(authz.departments_for_user(user).values_list("code", flat=True))
        == SEES_DEPARTMENTS[persona]
    )
    groups = {g.division.code for g in authz.working_groups_for_user(user)}
    assert groups == SEES_GROUPS[persona]
    assert (
        set(authz.users_for_user(user).values_list("username", flat=True)) == SEES_PEOPLE[persona]
    )
    holders = set(authz.role_assignments_for_user(user).values_list("user__username", flat=True))
    assert holders == SEES_ROLES[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_allows_changes_only_inside_the_scope(world, persona):
    user = world.users[persona]
    for code, division in world.d.items():
        assert authz.can_change_division(user, division) == (code in CHANGES_DIVISIONS[persona]), (
            code
        )
        assert authz.can_edit_profile(user, division) == (code in EDITS_PROFILES[persona]), code
        assert authz.can_manage_departments(user, division) == (
            code in MANAGES_DEPARTMENTS_OF.get(persona, set())
        ), code
        assert authz.can_manage_groups(user, division) == (
            code in MANAGES_GROUPS_OF.get(persona, set())
        ), code


@pytest.mark.parametrize(
    ("persona", "role", "where", "allowed"),
    [
        ("city_admin", "county_officer", "K2", True),
        ("city_admin", "city_admin", "C", False),  # only a superuser appoints his peers
        ("county_officer", "town_officer", "T11", True),
        ("county_officer", "assessor", "K1", True),
        ("county_officer", "county_officer", "K1", False),  # never his own rank
        ("county_officer", "town_officer", "T21", False),  # another county
        ("county_officer", "city_admin", "C", False),  # never upwards
        ("town_officer", "community_staff", "C111", True),
        ("town_officer", "community_staff", "C121", False),
        ("town_officer", "town_officer", "T11", False),
        ("town_officer", "assessor", "T11", False),
        ("community_staff", "community_staff", "C111", False),
        ("assessor", "viewer", "K1", False),
        ("viewer", "viewer", "K1", False),
        ("city_admin", "town_officer", "K1", False),  # a town officer sits at a town
    ],
)
def test_it_grants_roles_only_below_and_within(world, persona, role, where, allowed):
    department = world.dept["K1PSB"] if role == "assessor" else None  # an assessor needs one
    assert (
        authz.can_grant(world.users[persona], role, world.d[where], department=department)
        is allowed
    )


def test_it_lets_a_manager_change_only_people_wholly_in_his_reach(world):
    town = world.users["town_officer"]
    assert authz.can_manage_user(town, world.users["community_staff"])
    assert not authz.can_manage_user(town, world.users["other_staff"])
    assert not authz.can_manage_user(town, world.users["county_officer"])
    assert not authz.can_manage_user(town, town)
    # A person who also holds a role outside the town is out of the town officer's reach.
    RoleAssignment.objects.create(
        user=world.users["community_staff"], role="viewer", division=world.d["K2"]
    )
    assert not authz.can_manage_user(town, User.objects.get(username="community_staff"))


def test_it_scopes_the_audit_log(world):
    with transaction.atomic():
        audit.record(
            actor=None, action="x", object_type="division", scope_path=world.d["C211"].path
        )
        audit.record(
            actor=None, action="y", object_type="division", scope_path=world.d["C111"].path
        )
    assert set(
        authz.audit_events_for_user(world.users["town_officer"]).values_list("action", flat=True)
    ) == {"y"}
    assert set(
        authz.audit_events_for_user(world.users["city_admin"]).values_list("action", flat=True)
    ) == {"x", "y"}
    assert not authz.audit_events_for_user(world.users["viewer"]).exists()
    assert AuditEvent.objects.count() == 2


def test_visibility_grows_up_the_hierarchy(world):
    """Anything a town officer sees, his county officer and the city administrator see too."""
    chain = [
        world.users[p] for p in ("community_staff", "town_officer", "county_officer", "city_admin")
    ]
    for lower, upper in zip(chain, chain[1:], strict=False):
        assert set(authz.divisions_for_user(lower)) <= set(authz.divisions_for_user(upper))
        assert set(authz.working_groups_for_user(lower)) <= set(
            authz.working_groups_for_user(upper)
        )


def test_an_inactive_superuser_gets_nothing(world):
    boss = User.objects.create_superuser("boss", password="x-secret-password-1", is_active=False)
    assert not authz.is_super(boss)
    assert not authz.divisions_for_user(boss).exists()
