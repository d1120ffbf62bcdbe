"""A county round of a campaign run by a city comes in parts, one per county (ADR 12).

Each county officer leads his county's part: its communities' coverage, the panel members
appointed in his county, the part's combining rule and its sign-off. The round's coverage and
panel stay one list each; a part's entries are the communities under its county's path and the
assessors appointed in it. The round as a whole is finalised once every part that covers
communities is (or when the city finalises all at once). Any other round (a municipal round,
or the pre-acceptance of a campaign run by a county) is one part: the round itself.

Answers are kept on the round object for the rest of the request, under the same key as
`panels`' answers, so a service that changes a round forgets both at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Q

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.campaigns.models import AcceptanceRound, RoundPart
from civicmark.divisions.models import Division, Level

T = TypeVar("T")


def _memo(round_: AcceptanceRound, key: Any, compute: Callable[[], T]) -> T:
    memo = round_.__dict__.setdefault("_panels_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def forget(round_: AcceptanceRound) -> None:
    """What this round object knew of its lists and parts is out of date, and with them the
    answers kept on it of who may score where (assessments.access's `_standing_memo`)."""
    for known in (
        "_panels_memo",
        "listed_panel",
        "listed_covers",
        "later_rounds_started",
        "_standing_memo",
    ):
        round_.__dict__.pop(known, None)


def is_split(round_: AcceptanceRound) -> bool:
    """A county round of a campaign run by a city: one part per county."""
    return round_.level == Level.COUNTY and round_.campaign.division.level == Level.CITY


def county_path(path: str) -> str | None:
    """The path of the county that holds a division of a city's tree ("/C/K1/T11/C111/" ->
    "/C/K1/"): counties hang directly under a city. None for the city itself."""
    parts = [p for p in path.split("/") if p]
    return f"/{parts[0]}/{parts[1]}/" if len(parts) >= 2 else None


def under(field: str, paths: Any) -> Q:
    """A filter: the path in `field` lies under one of `paths` (nothing when there are none)."""
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(**{f"{field}__startswith": path})
    return query


def counties(round_: AcceptanceRound) -> list[Division]:
    """The counties of the campaign's city, in path order: the parts a split round may have."""
    if not is_split(round_):
        return []
    return _memo(
        round_,
        "counties",
        lambda: list(
            Division.objects.filter(
                level=Level.COUNTY, path__startswith=round_.campaign.division.path
            ).order_by("path")
        ),
    )


def county_of(round_: AcceptanceRound, code: str) -> Division | None:
    return next((c for c in counties(round_) if c.code == code), None)


def part_map(round_: AcceptanceRound) -> dict[str, RoundPart]:
    """The parts that exist, by county path (a part is created the first time it is set)."""
    if not is_split(round_):
        return {}
    return _memo(
        round_,
        "parts",
        lambda: {
            p.county.path: p
            for p in RoundPart.objects.filter(round=round_).select_related("county")
        },
    )


def rule_of(part: RoundPart | None, round_: AcceptanceRound) -> str:
    return (part.combine_rule if part is not None else "") or round_.combine_rule


def rule_for(round_: AcceptanceRound, path: str) -> str:
    """The combining rule that applies to a community (given by its path) in this round."""
    found = county_path(path)
    return rule_of(part_map(round_).get(found) if found else None, round_)


def other_rules(round_: AcceptanceRound) -> dict[str, str]:
    """County path -> rule, for the parts whose rule is not the round's own (empty when every
    community follows the round's rule, as in every round that is not split)."""
    return {
        path: part.combine_rule
        for path, part in part_map(round_).items()
        if part.combine_rule and part.combine_rule != round_.combine_rule
    }


def part_sealed(round_: AcceptanceRound, path: str) -> bool:
    """Whether the part holding this path (a community's or a county's) is finalised."""
    if round_.finalised_at is not None:
        return True
    found = county_path(path)
    part = part_map(round_).get(found) if found else None
    return part is not None and part.finalised_at is not None


def led_county(user: Any, round_: AcceptanceRound) -> Division | None:
    """The county whose part this person leads as its county officer (None if none, or if the
    round is not split)."""
    for county in counties(round_):
        if any(g.role == Role.COUNTY_OFFICER and g.path == county.path for g in authz.grants(user)):
            return county
    return None


def covering_counties(round_: AcceptanceRound, enrollment_paths: list[str]) -> set[str]:
    found = {county_path(p) for p in enrollment_paths}
    return {p for p in found if p is not None}
