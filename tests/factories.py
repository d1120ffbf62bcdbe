"""Factory helpers (no fixture files): a small world with two of everything."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from civicmark.accounts.models import RoleAssignment, User
from civicmark.divisions.models import (
    CommunityProfile,
    Department,
    Division,
    WorkingGroup,
    WorkingGroupMember,
)
from civicmark.standards.rules import CategoryData, ItemData, StandardData, VetoData
from civicmark.standards.services import standard_import


def division(code: str, name: str, level: str, parent: Division | None = None) -> Division:
    path = f"{parent.path if parent else '/'}{code}/"
    d = Division.objects.create(code=code, name=name, level=level, parent=parent, path=path)
    if level == "community":
        CommunityProfile.objects.create(division=d, households=1000, residents=3000)
    return d


def person(
    username: str,
    role: str | None = None,
    at: Division | None = None,
    department: Department | None = None,
    **extra: Any,
) -> User:
    user = User.objects.create_user(
        username=username, password="x-secret-password-1", full_name=username, **extra
    )
    if role:
        RoleAssignment.objects.create(user=user, role=role, division=at, department=department)
    return user


@dataclass
class World:
    """City C; counties K1, K2; towns T11, T12 (K1), T21 (K2); communities C111, C112, C121, C211."""

    d: dict[str, Division] = field(default_factory=dict)
    dept: dict[str, Department] = field(default_factory=dict)
    groups: dict[str, WorkingGroup] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def build_world() -> World:
    w = World()
    w.d["C"] = division("C", "City", "city")
    w.d["K1"] = division("K1", "County One", "county", w.d["C"])
    w.d["K2"] = division("K2", "County Two", "county", w.d["C"])
    w.d["T11"] = division("T11", "Town 11", "town", w.d["K1"])
    w.d["T12"] = division("T12", "Town 12", "town", w.d["K1"])
    w.d["T21"] = division("T21", "Town 21", "town", w.d["K2"])
    w.d["C111"] = division("C111", "Community 111", "community", w.d["T11"])
    w.d["C112"] = division("C112", "Community 112", "community", w.d["T11"])
    w.d["C121"] = division("C121", "Community 121", "community", w.d["T12"])
    w.d["C211"] = division("C211", "Community 211", "community", w.d["T21"])
    w.dept["FP"] = Department.objects.create(code="FP", name="Family Planning", division=w.d["C"])
    w.dept["K1PSB"] = Department.objects.create(
        code="K1PSB", name="K1 Public Security", division=w.d["K1"]
    )
    w.dept["K2PSB"] = Department.objects.create(
        code="K2PSB", name="K2 Public Security", division=w.d["K2"]
    )
    for key in ("K1", "K2", "T11", "T21"):
        w.groups[key] = WorkingGroup.objects.create(name=f"Group {key}", division=w.d[key])
        WorkingGroupMember.objects.create(group=w.groups[key], name=f"Leader {key}", is_leader=True)
    u = w.users
    u["city_admin"] = person("city_admin", "city_admin", w.d["C"])
    u["county_officer"] = person("county_officer", "county_officer", w.d["K1"])
    u["town_officer"] = person("town_officer", "town_officer", w.d["T11"])
    u["community_staff"] = person("community_staff", "community_staff", w.d["C111"])
    u["assessor"] = person("assessor", "assessor", w.d["K1"], department=w.dept["K1PSB"])
    u["viewer"] = person("viewer", "viewer", w.d["K1"])
    u["nobody"] = person("nobody")
    # Their counterparts elsewhere, whose objects the personas above must not reach.
    u["other_county_officer"] = person("other_county_officer", "county_officer", w.d["K2"])
    u["other_town_officer"] = person("other_town_officer", "town_officer", w.d["T12"])
    u["other_staff"] = person("other_staff", "community_staff", w.d["C211"])
    return w


def small_standard(world, slug="small"):  # noqa: ANN001, ANN201
    """A four-item table (two departments, one veto) for scoring tests."""
    Department.objects.get_or_create(code="PSB", defaults={"name": "PSB", "division": world.d["C"]})
    data = StandardData(
        slug=slug,
        name="Small",
        version=1,
        total_points=Decimal(100),
        pass_threshold=Decimal(80),
        levels=[("standard", Decimal(80)), ("advanced", Decimal(90))],
        categories=[
            CategoryData(
                "A",
                "A",
                Decimal(60),
                Decimal(30),
                [
                    ItemData("A1", "a1", Decimal(30), "", "documents", "FP", ""),
                    ItemData("A2", "a2", Decimal(30), "", "site_visit", "PSB", ""),
                ],
            ),
            CategoryData(
                "B",
                "B",
                Decimal(40),
                None,
                [
                    ItemData("B1", "b1", Decimal(20), "", "documents", "FP", ""),
                    ItemData("B2", "b2", Decimal(20), "", "survey", "PSB", ""),
                ],
            ),
        ],
        vetoes=[VetoData("V1", "x", "FP")],
    )
    return standard_import(actor=None, data=data, division=world.d["C"], publish=True)[0]


def closed_notice(round_, enrollments, *, commendation=False, pending=0):  # noqa: ANN001, ANN201
    """A public notice of the round listing the communities, whose window closed a month ago
    (ADR 22): what a naming needs to be final. `pending` objections still wait on the first."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from civicmark.assessments.models import NoticeEntry, Objection, PublicNotice

    today = timezone.localdate()
    notice = PublicNotice.objects.create(
        round=round_,
        working_days=5,
        opens_on=today - dt.timedelta(days=30),
        closes_on=today - dt.timedelta(days=24),
    )
    entries = [
        NoticeEntry.objects.create(
            notice=notice,
            enrollment=e,
            proposed_for="commendation" if commendation else "standard",
            total=Decimal("100"),
        )
        for e in enrollments
    ]
    for _n in range(pending):
        Objection.objects.create(entry=entries[0], statement="s", name="n", contact="13800000000")
    return notice


def report_upward(
    s, who, codes, *, county="K1", statement="经县级预验收，以下社区达到标准，现予上报。"
):  # noqa: ANN001, ANN201
    """The county's report to the city of the given communities of the `scoring` fixture (the
    one way a community is reported, ADR 25)."""
    from civicmark.results.upward import report_upward as report

    return report(
        actor=who,
        campaign=s["campaign"],
        county=Division.objects.get(code=county),
        enrollments=[s["enrollments"][c] for c in codes],
        statement=statement,
    )
