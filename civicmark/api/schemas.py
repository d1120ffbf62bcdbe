"""What the API answers, field by field. Public ids only: codes, slugs, round numbers and UUIDs;
every computed number as a string with two decimals, as the pages show it (ADR 17)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from ninja import Field, Schema

from civicmark.api.pagination import page_of

# What a code, slug or filter in a path or query may look like: a code of the tree, an item's or
# a veto's code, a campaign's slug. Anything else is refused (422) before any query.
CODE = r"^[\w.\-]{1,64}$"


def two(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None


class DepartmentOut(Schema):
    code: str
    name: str
    division_code: str


class StandardOut(Schema):
    id: UUID
    slug: str
    name: str
    version: int
    status: str
    division_code: str
    total_points: str
    pass_threshold: str


class CategoryOut(Schema):
    code: str
    name: str
    points: str
    min_points: str | None


class ItemOut(Schema):
    code: str
    title: str
    category: str
    points: str
    kind: str
    department: str
    other_departments: list[str]
    evidence: str


class VetoItemOut(Schema):
    code: str
    condition: str
    department: str


class StandardDetailOut(StandardOut):
    categories: list[CategoryOut]
    items: list[ItemOut]
    vetoes: list[VetoItemOut]


class CampaignOut(Schema):
    slug: str
    name: str
    year: int
    division_code: str
    standard_id: UUID


class RoundOut(Schema):
    number: int
    name: str
    level: str
    opens_on: dt.date
    closes_on: dt.date
    finalised_at: dt.datetime | None


class ResultOut(Schema):
    community_code: str
    community: str
    town_code: str
    county_code: str
    total: str
    subtotals: dict[str, str]
    outcome: str
    level: str
    rank: int | None = Field(description="The place in the whole round; null if not ranked.")
    commendable: bool
    vetoes: int = Field(description="Vetoes that stand in this round, whichever round found them.")


class LostOut(Schema):
    item: str
    awarded: str
    lost: str


class VetoStateOut(Schema):
    code: str
    state: str = Field(description="found, standing or lifted")


class CategoryTotalOut(Schema):
    code: str
    subtotal: str
    below_minimum: bool


class ResultDetailOut(Schema):
    community_code: str
    community: str
    total: str
    outcome: str
    level: str
    commendable: bool
    categories: list[CategoryTotalOut]
    lost: list[LostOut]
    vetoes: list[VetoStateOut]


class RectificationOut(Schema):
    id: UUID
    community_code: str
    round: int
    item: str | None
    veto: str | None
    points_lost: str | None
    reason: str
    due_on: dt.date | None
    status: str
    note: str


class SelfScoreOut(Schema):
    item: str
    points: str
    explanation: str


class SelfScoreIn(Schema):
    item: str = Field(pattern=CODE)
    points: str = Field(max_length=12, description="0 up to the item's points, in steps of 0.5.")
    explanation: str = Field("", max_length=4000)


class SelfScoresIn(Schema):
    scores: list[SelfScoreIn] = Field(min_length=1, max_length=500)


class ScoreOut(Schema):
    id: UUID
    item: str
    points: str | None
    occurrences: int | None
    not_applicable: bool
    reason: str
    version: int


class ScoreIn(Schema):
    item: str = Field(pattern=CODE)
    points: str | None = Field(None, max_length=12)
    occurrences: int | None = Field(None, ge=0, le=100000)
    not_applicable: bool = False
    reason: str = Field("", max_length=2000)
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The version read; null for a first score."
    )


class ScoresIn(Schema):
    scores: list[ScoreIn] = Field(min_length=1, max_length=500)


class VetoIn(Schema):
    action: str = Field(pattern=r"^(record|lift|withdraw)$")
    veto: str = Field(pattern=CODE)
    text: str = Field("", max_length=2000, description="What was found (record) or why (lift).")
    finding: UUID | None = Field(None, description="Withdraw: the finding's id.")


class VetoDoneOut(Schema):
    veto: str
    action: str


class EvidenceOut(Schema):
    id: UUID
    name: str
    sha256: str
    items: list[str]
    supersedes: UUID | None


DivisionPage = page_of(DivisionOut)
DepartmentPage = page_of(DepartmentOut)
StandardPage = page_of(StandardOut)
CampaignPage = page_of(CampaignOut)
RoundPage = page_of(RoundOut)
ResultPage = page_of(ResultOut)
RectificationPage = page_of(RectificationOut)
