"""A synthetic city of any size, built through bulk inserts: for the query-count tests and the
benchmarks. Real services create the campaign; the scores are bulk-inserted (what thousands of
assessors' saves would leave behind), deterministic for a given seed."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from civicmark.accounts.models import RoleAssignment, User
from civicmark.campaigns.models import Campaign
from civicmark.campaigns.services import campaign_create
from civicmark.divisions.models import CommunityProfile, Department, Division, Level
from civicmark.scoring.models import Score, VetoFinding


def build_city(
    communities: int,
    standard: Any,
    *,
    prefix: str = "S",
    per_town: int = 10,
    towns_per_county: int = 10,
    seed: int = 1,
    rounds: tuple[int, ...] = (1, 2),
) -> Campaign:
    """A city with `communities` communities under towns and counties, a campaign on `standard`
    run by the city, and every item of every community scored in the given rounds by one city
    assessor per department (the county round by county assessors), with a few vetoes."""
    rng = random.Random(seed)  # noqa: S311  (test data, not secrets)
    with transaction.atomic():
        city = Division.objects.create(
            code=f"{prefix}C", name=f"{prefix}市", level=Level.CITY, path=f"/{prefix}C/"
        )
        counties: list[Division] = []
        towns: list[Division] = []
        members: list[Division] = []
        n_towns = max(1, -(-communities // per_town))
        for t in range(n_towns):
            if t % towns_per_county == 0:
                code = f"{prefix}K{len(counties)}"
                counties.append(
                    Division.objects.create(
                        code=code,
                        name=f"{prefix}县{len(counties)}",
                        level=Level.COUNTY,
                        parent=city,
                        path=f"{city.path}{code}/",
                    )
                )
            county = counties[-1]
            code = f"{prefix}T{t}"
            towns.append(
                Division(
                    code=code,
                    name=f"{prefix}镇{t}",
                    level=Level.TOWN,
                    parent=county,
                    path=f"{county.path}{code}/",
                )
            )
        Division.objects.bulk_create(towns)
        towns = list(Division.objects.filter(level=Level.TOWN, path__startswith=city.path))
        for n in range(communities):
            town = towns[n // per_town]
            code = f"{prefix}{n:05d}"
            members.append(
                Division(
                    code=code,
                    name=f"{prefix}社区{n}",
                    level=Level.COMMUNITY,
                    parent=town,
                    path=f"{town.path}{code}/",
                )
            )
        Division.objects.bulk_create(members)
        members = list(Division.objects.filter(level=Level.COMMUNITY, path__startswith=city.path))
        CommunityProfile.objects.bulk_create(
            CommunityProfile(division=d, households=1000, residents=3000) for d in members
        )
        campaign = campaign_create(
            actor=None,
            slug=f"{prefix.lower()}-scale",
            name=f"{prefix}规模测试",
            year=2026,
            division=city,
            standard=standard,
            communities=members,
        )
        departments = {
            d: Department.objects.get(pk=d)
            for d in set(standard.items.values_list("department", flat=True))
        }
        assessors: dict[tuple[str, int], User] = {}
        for level, division in (("city", city), ("county", counties[0])):
            for dept in departments.values():
                user = User.objects.create(
                    username=f"{prefix.lower()}-{level}-{dept.code.lower()}",
                    full_name=f"{dept.name}{level}",
                )
                RoleAssignment.objects.create(
                    user=user, role="assessor", division=division, department=dept
                )
                for county in counties[1:] if level == "county" else []:
                    RoleAssignment.objects.create(
                        user=user, role="assessor", division=county, department=dept
                    )
                assessors[(level, dept.pk)] = user
        items = list(standard.items.all())
        enrollments = list(campaign.enrollments.all())
        campaign.enrollments.update(status="reported")
        for number in rounds:
            round_ = campaign.rounds.get(number=number)
            level = round_.level  # the round's kind is data on it (ADR 17)
            scores = []
            for e in enrollments:
                for item in items:
                    points = _points(rng, item.points)
                    scores.append(
                        Score(
                            round=round_,
                            enrollment=e,
                            item=item,
                            assessor=assessors[(level, item.department_id)],
                            points=points,
                            reason="" if points == item.points else "抽查发现不足",
                        )
                    )
            Score.objects.bulk_create(scores, batch_size=2000)
            veto = standard.vetoes.first()
            if veto is not None:
                VetoFinding.objects.bulk_create(
                    VetoFinding(
                        round=round_,
                        enrollment=e,
                        veto=veto,
                        assessor=assessors[(level, veto.department_id)],
                        reason="发现否决情形",
                    )
                    for e in enrollments[:: max(1, len(enrollments) // 3)][:3]
                )
        from civicmark.scoring.materialize import refresh

        for round_ in campaign.rounds.all():
            refresh(round_)  # bulk inserts bypass the services that keep results current
    return campaign


def _points(rng: random.Random, maximum: Decimal) -> Decimal:
    """Mostly full marks, sometimes a half-point deduction or more."""
    steps = int(maximum * 2)
    lost = 0 if rng.random() < 0.6 else rng.randint(0, max(0, steps // 2))
    return Decimal(steps - lost) / 2
