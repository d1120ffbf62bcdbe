"""Imports never destroy what the file does not mention, and every change can be undone from the
audit trail: an update event keeps the before and after values of the fields it changed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from civicmark.accounts import authz
from civicmark.accounts.places import services
from civicmark.accounts.places.imports import departments_import, divisions_import
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import CommunityProfile, Department, Division
from tests.test_division_import import GOOD, HEADER, state

COMMUNITY = "990121100001"
PROFILE = ["committee", "households", "residents", "area_km2", "floor_space_m2", "staff", "note"]


def run(text: str, actor: Any = None) -> Any:
    return divisions_import(actor=actor, data=text.encode("utf-8"), filename="d.csv", via="cli")


def profile_values(code: str = COMMUNITY) -> dict[str, Any]:
    profile = CommunityProfile.objects.get(division__code=code)
    return {f: getattr(profile, f) for f in PROFILE}


def tree() -> dict[str, tuple[str, str, str | None]]:
    return {
        d.code: (d.name, d.path, d.parent.code if d.parent else None)
        for d in Division.objects.select_related("parent")
    }


# --- Absent columns ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_leaves_profile_fields_alone_when_their_columns_are_absent():
    run(GOOD)
    before = profile_values()
    summary = run(
        "code,name,level,parent_code,households\n"
        f"{COMMUNITY},解放路社区,community,990121100000,3000\n"
    )
    assert summary.updated == [COMMUNITY]
    assert profile_values() == {**before, "households": 3000}


@pytest.mark.django_db
def test_a_file_of_bare_divisions_changes_no_profile():
    run(GOOD)
    before, events = state(), AuditEvent.objects.count()
    summary = run(f"code,name,level,parent_code\n{COMMUNITY},解放路社区,community,990121100000\n")
    assert (summary.updated, summary.unchanged) == ([], 1)
    assert state() == before and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_an_empty_cell_in_a_present_column_still_empties_the_field():
    run(GOOD)
    run(
        "code,name,level,parent_code,households,note\n"
        f"{COMMUNITY},解放路社区,community,990121100000,,\n"
    )
    values = profile_values()
    assert values["households"] is None and values["note"] == ""
    assert values["residents"] == 7920  # absent: kept


@pytest.mark.django_db
def test_a_new_community_gets_only_the_columns_the_file_has():
    run(GOOD)
    run("code,name,level,parent_code,staff\n990121100002,新社区,community,990121100000,4\n")
    values = profile_values("990121100002")
    assert values["staff"] == 4 and values["households"] is None and values["note"] == ""


# --- Before and after in the trail -------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_that_changes_a_profile_keeps_before_and_after():
    run(GOOD)
    run(
        HEADER
        + f"{COMMUNITY},解放路社区,community,990121100000,新居委会,3000,7920,0.90,420,9,试点\n"
    )
    event = AuditEvent.objects.get(action="profile.updated", object_ref=COMMUNITY)
    assert event.via == "cli"
    assert event.before == {"committee": "解放路居委会", "households": 2860, "area_km2": "0.86"}
    assert event.after == {"committee": "新居委会", "households": 3000, "area_km2": "0.90"}


@pytest.mark.django_db
def test_the_trail_alone_undoes_an_import():
    run(GOOD + "990121200000,另一镇,town,990121000000,,,,,,,\n")
    divisions, profile = tree(), profile_values()
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    run(
        HEADER
        + "990121200000,改名镇,town,990121000000,,,,,,,\n"
        + f"{COMMUNITY},改名社区,community,990121200000,,1,,,,,\n"
    )
    assert tree() != divisions and profile_values() != profile
    # Undo, newest first, from nothing but the events' before-values.
    for event in AuditEvent.objects.filter(pk__gt=mark).order_by("-pk"):
        if event.action == "profile.updated":
            services.profile_update(
                actor=None,
                community=Division.objects.get(code=event.object_ref),
                values={
                    k: Decimal(v) if k.endswith(("_km2", "_m2")) and v is not None else v
                    for k, v in event.before.items()
                },
            )
        elif event.action == "division.updated":
            division = Division.objects.get(code=event.object_ref)
            parent_code = event.before.get("parent", division.parent.code)
            services.division_update(
                actor=None,
                division=division,
                name=event.before.get("name", division.name),
                parent=Division.objects.get(code=parent_code),
            )
    assert tree() == divisions and profile_values() == profile


@pytest.mark.django_db
def test_moving_a_town_by_import_records_where_it_was():
    run(GOOD + "990121200000,另一镇,town,990121000000,,,,,,,\n")
    run(f"code,name,level,parent_code\n{COMMUNITY},解放路社区,community,990121200000\n")
    event = AuditEvent.objects.get(action="division.updated", object_ref=COMMUNITY)
    assert event.before == {
        "parent": "990121100000",
        "path": "/990100000000/990121000000/990121100000/990121100001/",
    }
    assert event.after == {
        "parent": "990121200000",
        "path": "/990100000000/990121000000/990121200000/990121100001/",
    }


@pytest.mark.django_db
def test_an_import_that_changes_a_department_keeps_before_and_after(world):
    data = b"code,name,division_code\nK1PSB,K1 Police,K2\n"
    departments_import(actor=None, data=data, filename="p.csv", via="cli")
    event = AuditEvent.objects.get(action="department.updated", object_ref="K1PSB")
    assert event.before == {"name": "K1 Public Security", "division": "K1"}
    assert event.after == {"name": "K1 Police", "division": "K2"}
    # The same file again changes nothing and writes nothing.
    events = AuditEvent.objects.count()
    departments_import(actor=None, data=data, filename="p.csv", via="cli")
    assert AuditEvent.objects.count() == events


# --- Moving a division: one service ------------------------------------------------------------


def _scope_of(user: Any) -> set[str]:
    return set(authz.divisions_for_user(user).values_list("code", flat=True))


@pytest.mark.django_db
def test_a_moved_town_is_seen_by_its_new_county_and_not_by_its_old_one(world):
    officer, other = world.users["county_officer"], world.users["other_county_officer"]
    assert {"T11", "C111", "C112"} <= _scope_of(officer)
    services.division_update(
        actor=world.users["city_admin"],
        division=world.d["T11"],
        name="Town 11",
        parent=world.d["K2"],
    )
    authz.forget_grants(officer)
    authz.forget_grants(other)
    assert not {"T11", "C111", "C112"} & _scope_of(officer)
    assert {"T11", "C111", "C112"} <= _scope_of(other)
    assert Division.objects.get(code="C111").path == "/C/K2/T11/C111/"
    # The town's own staff and officer still see what they saw, under the new path.
    assert {"T11", "C111", "C112"} <= _scope_of(world.users["town_officer"])
    event = AuditEvent.objects.get(action="division.updated", object_ref="T11")
    assert event.before == {"parent": "K1", "path": "/C/K1/T11/"}
    assert event.after == {"parent": "K2", "path": "/C/K2/T11/"}


MOVE_REFUSALS = [
    # (who, division, new parent): outside his area, to a parent of the wrong level, his own.
    ("county_officer", "T11", "K2"),
    ("other_county_officer", "T11", "K2"),
    ("city_admin", "T11", "T12"),
    ("town_officer", "C111", "T12"),
    ("county_officer", "K1", "C"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "code", "parent"), MOVE_REFUSALS)
def test_a_move_that_is_not_allowed_changes_nothing(world, who, code, parent):
    before, events = tree(), AuditEvent.objects.count()
    with pytest.raises(ApplicationError):
        services.division_update(
            actor=world.users[who],
            division=world.d[code],
            name=world.d[code].name,
            parent=world.d[parent],
        )
    assert tree() == before and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_county_officer_moves_a_community_between_his_towns(world):
    services.division_update(
        actor=world.users["county_officer"],
        division=world.d["C111"],
        name="Community 111",
        parent=world.d["T12"],
    )
    assert Division.objects.get(code="C111").path == "/C/K1/T12/C111/"
    authz.forget_grants(world.users["town_officer"])
    assert "C111" not in _scope_of(world.users["town_officer"])


@pytest.mark.django_db
def test_a_community_officer_may_not_rename_his_own_division(world):
    with pytest.raises(NotAllowed):
        services.division_update(
            actor=world.users["community_staff"],
            division=world.d["C111"],
            name="Mine",
            parent=world.d["T11"],
        )


# --- The edit page goes through the service ---------------------------------------------------


@pytest.mark.django_db
def test_the_edit_page_moves_a_town_with_its_communities(world, client_for):
    client = client_for(world.users["city_admin"])
    url = reverse("division_edit", args=["T11"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Town Eleven", "parent": "K2"})
    assert response.status_code == 302
    assert tree()["C112"] == ("Community 112", "/C/K2/T11/C112/", "T11")
    assert AuditEvent.objects.filter(action="division.updated", object_ref="T11").count() == 1


@pytest.mark.django_db
def test_the_edit_page_refuses_a_parent_outside_the_area_and_shows_what_was_typed(
    world, client_for
):
    client = client_for(world.users["county_officer"])
    before, events = tree(), AuditEvent.objects.count()
    response = client.post(
        reverse("division_edit", args=["T11"]), {"name": "Typed name", "parent": "K2"}
    )
    assert response.status_code == 200
    assert "Typed name" in response.content.decode()
    assert tree() == before and AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["town_officer", "community_staff", "other_county_officer"])
def test_the_edit_page_is_not_found_for_those_who_may_not_change_the_division(
    world, client_for, who
):
    client = client_for(world.users[who])
    before = tree()
    url = reverse("division_edit", args=["T11"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x", "parent": "K1"}).status_code == 404
    assert tree() == before


@pytest.mark.django_db
def test_departments_import_with_a_changed_department_for_the_web(world):
    """The web (an officer) goes through the same path as the command line."""
    data = b"code,name,division_code\nK1PSB,K1 Police,K1\n"
    departments_import(actor=world.users["county_officer"], data=data, filename="p.csv")
    event = AuditEvent.objects.get(action="department.updated", object_ref="K1PSB")
    assert (event.via, event.before, event.after) == (
        "web",
        {"name": "K1 Public Security"},
        {"name": "K1 Police"},
    )
    assert Department.objects.get(code="K1PSB").name == "K1 Police"


# --- The other imports that update rows ---------------------------------------------------------


@pytest.mark.django_db
def test_a_calendar_import_that_changes_a_day_keeps_what_it_was():
    import datetime as dt

    from civicmark.employment import services as employment

    day = dt.date(2026, 10, 8)
    employment.calendar_import(actor=None, rows=[(day, "国庆节", False)])
    employment.calendar_import(actor=None, rows=[(day, "调休上班", True)])
    event = AuditEvent.objects.filter(action="employment.calendar_imported").latest("pk")
    assert event.before == {"2026-10-08": {"name": "国庆节", "is_working_day": False}}
    assert event.after == {"2026-10-08": {"name": "调休上班", "is_working_day": True}}


@pytest.mark.django_db
def test_a_new_version_of_a_difficulty_group_records_the_end_it_gave_the_old_one(world):
    import datetime as dt

    from civicmark.employment import services as employment

    employment.groups_import(
        actor=None, province=world.d["C"], rows=[("G1", "零就业家庭", dt.date(2026, 1, 1), 4)]
    )
    employment.groups_import(
        actor=None, province=world.d["C"], rows=[("G1", "零就业家庭", dt.date(2026, 7, 1), 6)]
    )
    event = AuditEvent.objects.filter(action="employment.groups_imported").latest("pk")
    assert event.before == {"G1": {"effective_to": None}}
    assert event.after == {"G1": {"effective_to": "2026-06-30"}}


@pytest.mark.django_db
def test_a_household_list_import_records_which_households_it_set_aside(world):
    from civicmark.surveys import services as surveys

    def frame(text: str) -> None:
        surveys.frame_import(
            actor=None, community=world.d["C112"], data=text.encode(), filename="f.csv"
        )

    frame("estate,building,door\n东园,1,101\n东园,1,102\n")
    frame("estate,building,door\n东园,1,101\n东园,1,103\n")
    event = AuditEvent.objects.filter(action="survey.frame_imported").latest("pk")
    assert (event.before, event.after) == ({"东园/1/102/1": True}, {"东园/1/102/1": False})
    frame("estate,building,door\n东园,1,101\n东园,1,102\n")
    event = AuditEvent.objects.filter(action="survey.frame_imported").latest("pk")
    assert event.before == {"东园/1/102/1": False, "东园/1/103/1": True}
    assert event.after == {"东园/1/102/1": True, "东园/1/103/1": False}


# --- The command line goes through the service too ------------------------------------------------


@pytest.mark.django_db
def test_the_command_line_moves_a_town_with_its_communities(world):
    from io import StringIO

    from django.core.management import call_command

    call_command("move-division", "T11", "--parent", "K2", stdout=StringIO())
    assert tree()["C111"] == ("Community 111", "/C/K2/T11/C111/", "T11")
    event = AuditEvent.objects.get(action="division.updated", object_ref="T11")
    assert (event.via, event.before["parent"], event.after["parent"]) == ("cli", "K1", "K2")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "args"),
    [
        ("county_officer", ["T11", "--parent", "K2"]),
        ("other_county_officer", ["T11", "--name", "x"]),
    ],
)
def test_the_command_line_refuses_what_the_person_may_not_do(world, who, args):
    from io import StringIO

    from django.core.management import CommandError, call_command

    before, events = tree(), AuditEvent.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("move-division", *args, "--user", who, stdout=StringIO())
    assert "in your area" in str(refused.value)  # unknown to him, named no further
    assert tree() == before and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_replacing_a_draft_standard_keeps_its_old_content_in_the_trail(world):
    from civicmark.standards.services import standard_data, standard_import
    from tests.factories import small_standard

    data = standard_data(small_standard(world))
    data.version = 2
    standard_import(actor=None, data=data, division=world.d["C"])  # a draft of version 2
    data.categories[0].items[0].title = "a1, reworded"
    data.vetoes = []
    standard_import(actor=None, data=data, division=world.d["C"])  # the draft replaced
    event = AuditEvent.objects.filter(action="standard.imported").latest("pk")
    assert event.before["categories"][0]["items"][0]["title"] == "a1"
    assert event.before["vetoes"] == [{"code": "V1", "condition": "x", "department": "FP"}]
    assert event.after["categories"][0]["items"][0]["title"] == "a1, reworded"
    assert event.after["vetoes"] == []
    assert Decimal(event.before["categories"][0]["items"][0]["points"]) == 30


@pytest.mark.django_db
def test_the_audit_log_shows_each_change_before_and_after(world, client_for):
    admin = world.users["city_admin"]
    services.profile_update(actor=admin, community=world.d["C111"], values={"households": 1200})
    services.division_update(
        actor=admin, division=world.d["T11"], name="Town 11", parent=world.d["K2"]
    )
    client = client_for(admin)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("audit_list")).content.decode()
    assert 'data-testid="change"' in page
    assert "households: 1000 → 1200" in page
    assert "parent: K1 → K2" in page and "path: /C/K1/T11/ → /C/K2/T11/" in page
