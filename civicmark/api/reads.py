"""The API's reads (ADR 24): each list through the selector its page uses, cursor-paginated."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from civicmark.accounts import authz
from civicmark.api import scope
from civicmark.api.auth import reader
from civicmark.api.errors import ApiError
from civicmark.api.pagination import PageQuery, paginate
from civicmark.api.schemas import (
    CODE,
    CampaignOut,
    CampaignPage,
    DepartmentPage,
    DivisionOut,
    DivisionPage,
    RectificationPage,
    ResultDetailOut,
    ResultPage,
    RoundOut,
    RoundPage,
    StandardDetailOut,
    StandardPage,
    two,
)
from civicmark.assessments.selectors import rectifications_for_user
from civicmark.campaigns.selectors import rounds_for_user
from civicmark.core.replicas import replica_reads
from civicmark.results import summary
from civicmark.results.explain import explain
from civicmark.standards.selectors import standards_for_user

router = Router()
NUMBER = {"ge": 1, "le": 32767}


def errors(*extra: int) -> dict[int, Any]:
    from civicmark.api.errors import ErrorOut

    return {code: ErrorOut for code in (401, 404, 422, 429, *extra)}


def _division(d: Any) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "level": d.level,
        "parent_code": d.parent.code if d.parent_id else None,
    }


@router.get("/divisions", response={200: DivisionPage, **errors()}, tags=["divisions"])
def division_list(
    request: HttpRequest,
    page: Query[PageQuery],
    level: str | None = Query(None, pattern=r"^(city|county|town|community)$"),
    parent: str | None = Query(None, pattern=CODE),
) -> Any:
    """The divisions the person may read (his subtrees), by code."""
    rows = authz.divisions_for_user(reader(request)).select_related("parent")
    if level:
        rows = rows.filter(level=level)
    if parent:
        rows = rows.filter(parent__code=parent)
    return paginate(rows, page, [("code", False)], _division)


@router.get("/divisions/{code}", response={200: DivisionOut, **errors()}, tags=["divisions"])
def division_detail(request: HttpRequest, code: str = Path(..., pattern=CODE)) -> Any:
    user = reader(request)
    found = authz.get_visible_or_404(
        authz.divisions_for_user(user).select_related("parent"), user, code=code
    )
    return _division(found)


@router.get("/departments", response={200: DepartmentPage, **errors()}, tags=["divisions"])
def department_list(request: HttpRequest, page: Query[PageQuery]) -> Any:
    """The departments of the person's subtree and of the governments above it."""
    rows = authz.departments_for_user(reader(request))
    return paginate(
        rows,
        page,
        [("code", False)],
        lambda d: {"code": d.code, "name": d.name, "division_code": d.division.code},
    )


def _standard(s: Any) -> dict[str, Any]:
    return {
        "id": s.public_id,
        "slug": s.slug,
        "name": s.name,
        "version": s.version,
        "status": s.status,
        "division_code": s.division.code,
        "total_points": two(s.total_points),
        "pass_threshold": two(s.pass_threshold),
    }


@router.get("/standards", response={200: StandardPage, **errors()}, tags=["standards"])
def standard_list(request: HttpRequest, page: Query[PageQuery]) -> Any:
    rows = standards_for_user(reader(request))
    return paginate(rows, page, [("public_id", False)], _standard)


@router.get("/standards/{id}", response={200: StandardDetailOut, **errors()}, tags=["standards"])
def standard_detail(request: HttpRequest, id: UUID) -> Any:  # noqa: A002
    """A standard with its categories, items (the scoring table) and vetoes."""
    user = reader(request)
    standard = authz.get_visible_or_404(standards_for_user(user), user, public_id=id)
    items = (
        standard.items.select_related("category", "department")
        .prefetch_related("other_departments")
        .order_by("order")
    )
    return {
        **_standard(standard),
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "points": two(c.points),
                "min_points": two(c.min_points),
            }
            for c in standard.categories.order_by("order")
        ],
        "items": [
            {
                "code": i.code,
                "title": i.title,
                "category": i.category.code,
                "points": two(i.points),
                "kind": i.kind,
                "department": i.department.code,
                "other_departments": sorted(d.code for d in i.other_departments.all()),
                "evidence": i.evidence,
            }
            for i in items
        ],
        "vetoes": [
            {"code": v.code, "condition": v.condition, "department": v.department.code}
            for v in standard.vetoes.select_related("department").order_by("order", "code")
        ],
    }


def _campaign(c: Any) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "name": c.name,
        "year": c.year,
        "division_code": c.division.code,
        "standard_id": c.standard.public_id,
    }


@router.get("/campaigns", response={200: CampaignPage, **errors()}, tags=["campaigns"])
def campaign_list(request: HttpRequest, page: Query[PageQuery]) -> Any:
    from civicmark.campaigns.selectors import campaigns_for_user

    return paginate(campaigns_for_user(reader(request)), page, [("slug", False)], _campaign)


@router.get("/campaigns/{slug}", response={200: CampaignOut, **errors()}, tags=["campaigns"])
def campaign_detail(request: HttpRequest, slug: str = Path(..., pattern=CODE)) -> Any:
    return _campaign(scope.campaign(reader(request), slug))


def _round(r: Any) -> dict[str, Any]:
    return {
        "number": r.number,
        "name": r.name,
        "level": r.level,
        "opens_on": r.opens_on,
        "closes_on": r.closes_on,
        "finalised_at": r.finalised_at,
    }


@router.get("/campaigns/{slug}/rounds", response={200: RoundPage, **errors()}, tags=["campaigns"])
def round_list(
    request: HttpRequest, page: Query[PageQuery], slug: str = Path(..., pattern=CODE)
) -> Any:
    user = reader(request)
    campaign = scope.campaign(user, slug)
    rows = rounds_for_user(user).filter(campaign=campaign)
    return paginate(rows, page, [("number", False)], _round)


@router.get(
    "/campaigns/{slug}/rounds/{number}", response={200: RoundOut, **errors()}, tags=["campaigns"]
)
def round_detail(
    request: HttpRequest,
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
) -> Any:
    return _round(scope.round_of(reader(request), slug, number))


def _results(round_: Any) -> Any:
    """A page of stored results as the API's rows: the categories and the round's ranked totals
    read once for the page (`summary.to_rows`), not once per row."""

    def out_all(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        codes = list(round_.campaign.standard.categories.values_list("code", flat=True))
        return [
            {
                "community_code": row.code,
                "community": row.name,
                "town_code": row.town_code,
                "county_code": row.county_code,
                "total": two(row.total),
                "subtotals": {c: two(v) for c, v in zip(codes, row.subtotals, strict=False)},
                "outcome": row.outcome,
                "level": row.level,
                "rank": row.rank,
                "commendable": row.commendable,
                "vetoes": row.vetoes,
            }
            for row in summary.to_rows(round_, values)
        ]

    return out_all


@router.get(
    "/campaigns/{slug}/rounds/{number}/results",
    response={200: ResultPage, **errors()},
    tags=["results"],
)
def result_list(
    request: HttpRequest,
    page: Query[PageQuery],
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
) -> Any:
    """The round's stored results of the communities it covers that the person sees, by code;
    `rank` is the place in the whole round, as on the ranking page."""
    user = reader(request)
    with replica_reads():  # as the pages' results and ranking (ADR 27)
        round_ = scope.round_of(user, slug, number)
        rows = summary.as_values(summary.results_for(round_, user))
        return paginate(
            rows, page, [("enrollment__community__code", False)], out_all=_results(round_)
        )


@router.get(
    "/campaigns/{slug}/rounds/{number}/ranking",
    response={200: ResultPage, **errors()},
    tags=["results"],
)
def ranking(
    request: HttpRequest,
    page: Query[PageQuery],
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
    county: str | None = Query(None, pattern=CODE),
    town: str | None = Query(None, pattern=CODE),
    outcome: str | None = Query(None, pattern=r"^(standard|not_reached|vetoed|incomplete)$"),
) -> Any:
    """The ranking page's rows in its order: ranked communities by total, then the vetoed, then
    the incomplete; filtered as the page filters."""
    user = reader(request)
    with replica_reads():
        round_ = scope.round_of(user, slug, number)
        shown = summary.ranked(
            round_, user, county=county or "", town=town or "", outcome=outcome or "", sort="rank"
        )
        rows = shown.values(*summary.FIELDS, "standing")
        order = [("standing", False), ("total", True), ("enrollment__community__code", False)]
        return paginate(rows, page, order, out_all=_results(round_))


@router.get(
    "/campaigns/{slug}/rounds/{number}/results/{code}",
    response={200: ResultDetailOut, **errors()},
    tags=["results"],
)
def result_detail(
    request: HttpRequest,
    slug: str = Path(..., pattern=CODE),
    number: int = Path(..., **NUMBER),
    code: str = Path(..., pattern=CODE),
) -> Any:
    """One community's result explained: category subtotals, every item that lost points, and
    each veto as found, standing or lifted (the result page's figures)."""
    user = reader(request)
    with replica_reads():
        return _explained(user, slug, number, code)


def _explained(user: Any, slug: str, number: int, code: str) -> dict[str, Any]:
    round_ = scope.round_of(user, slug, number)
    stored = summary.results_for(round_, user).filter(enrollment__community__code=code).first()
    if stored is None:
        raise ApiError("not_found", _("Not found."))
    enrollment = scope.enrollment(user, round_.campaign, code)
    explained = explain(round_, enrollment)
    result = explained.result
    return {
        "community_code": enrollment.community.code,
        "community": enrollment.community.name,
        "total": two(result.total),
        "outcome": result.outcome,
        "level": result.level,
        "commendable": bool(result.commendable),
        "categories": [
            {
                "code": c["category"].code,
                "subtotal": two(c["subtotal"]),
                "below_minimum": c["below_minimum"],
            }
            for c in explained.categories
        ],
        "lost": [
            {"item": lost.item.code, "awarded": two(lost.awarded), "lost": two(lost.lost)}
            for lost in explained.lost
        ],
        "vetoes": [
            {"code": v.veto.code if v.veto else "", "state": v.state} for v in explained.vetoes
        ],
    }


@router.get(
    "/campaigns/{slug}/rectifications",
    response={200: RectificationPage, **errors()},
    tags=["results"],
)
def rectification_list(
    request: HttpRequest,
    page: Query[PageQuery],
    slug: str = Path(..., pattern=CODE),
    status: str | None = Query(None, pattern=r"^(open|done)$"),
) -> Any:
    """What the finalised rounds found wanting, in the communities the person sees."""
    user = reader(request)
    rows = rectifications_for_user(user, scope.campaign(user, slug))
    if status:
        rows = rows.filter(status=status)
    return paginate(
        rows,
        page,
        [("public_id", False)],
        lambda r: {
            "id": r.public_id,
            "community_code": r.enrollment.community.code,
            "round": r.round.number,
            "item": r.item.code if r.item else None,
            "veto": r.veto.code if r.veto else None,
            "points_lost": two(r.points_lost),
            "reason": r.reason,
            "due_on": r.due_on,
            "status": r.status,
            "note": r.note,
        },
    )
