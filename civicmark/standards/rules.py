"""The content of a standard as plain values, and the rules it must keep (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from civicmark.core.errors import PlaceError

CHECKS = ("documents", "site_visit", "survey", "data")
HALF = Decimal("0.5")


@dataclass
class ItemData:
    code: str
    title: str
    points: Decimal
    method: str
    check: str
    department: str
    evidence: str
    row: int | None = None


@dataclass
class CategoryData:
    code: str
    name: str
    points: Decimal
    min_points: Decimal | None
    items: list[ItemData] = field(default_factory=list)
    row: int | None = None


@dataclass
class VetoData:
    code: str
    condition: str
    department: str
    row: int | None = None


@dataclass
class StandardData:
    slug: str
    name: str
    version: int
    total_points: Decimal
    pass_threshold: Decimal
    levels: list[tuple[str, Decimal]] = field(default_factory=list)
    requirements: list[tuple[str, str]] = field(default_factory=list)
    categories: list[CategoryData] = field(default_factory=list)
    vetoes: list[VetoData] = field(default_factory=list)

    def comparable(self) -> tuple:
        """Everything but the places in the source file: two equal standards compare equal."""
        return (
            self.slug,
            self.name,
            self.version,
            self.total_points,
            self.pass_threshold,
            tuple(self.levels),
            tuple(self.requirements),
            tuple(
                (
                    c.code,
                    c.name,
                    c.points,
                    c.min_points,
                    tuple(
                        (i.code, i.title, i.points, i.method, i.check, i.department, i.evidence)
                        for i in c.items
                    ),
                )
                for c in self.categories
            ),
            tuple((v.code, v.condition, v.department) for v in self.vetoes),
        )


def validate(data: StandardData, departments: set[str]) -> list[PlaceError]:
    """Every rule a standard keeps. Places point at the `items`, `vetoes` or `levels` sheets."""
    errors: list[PlaceError] = []

    def err(
        message: str, sheet: str = "standard", row: int | None = None, column: str | None = None
    ) -> None:
        errors.append(PlaceError(message, sheet=sheet, row=row, column=column))

    if data.total_points <= 0:
        err(_("The total points must be above zero."), column="total_points")
    if not (0 < data.pass_threshold <= data.total_points):
        err(
            _("The pass threshold %(t)s must lie between 0 and the total %(total)s.")
            % {"t": data.pass_threshold, "total": data.total_points},
            column="pass_threshold",
        )
    seen_levels: set[str] = set()
    for name, minimum in data.levels:
        if name in seen_levels:
            err(_("The level “%s” is given twice.") % name, sheet="levels", column="name")
        seen_levels.add(name)
        if not (data.pass_threshold <= minimum <= data.total_points):
            err(
                _(
                    "The level “%(name)s” starts at %(min)s, outside the pass threshold and the total."
                )
                % {"name": name, "min": minimum},
                sheet="levels",
                column="min_score",
            )
    if not data.categories:
        err(_("The scoring table has no items."), sheet="items")
    codes: dict[str, str] = {}
    category_sum = Decimal(0)
    for cat in data.categories:
        category_sum += cat.points
        if cat.code in codes:
            err(
                _("The category code %s is used twice.") % cat.code,
                "items",
                cat.row,
                "category_code",
            )
        codes[cat.code] = "category"
        item_sum = sum((i.points for i in cat.items), Decimal(0))
        if item_sum != cat.points:
            err(
                _("The items of category %(code)s add up to %(sum)s, not its %(points)s points.")
                % {"code": cat.code, "sum": item_sum, "points": cat.points},
                "items",
                cat.row,
                "points",
            )
        if cat.min_points is not None and not (0 <= cat.min_points <= cat.points):
            err(
                _("The minimum of category %s must lie between 0 and its points.") % cat.code,
                "items",
                cat.row,
                "category_min",
            )
        for item in cat.items:
            if item.code in codes:
                err(
                    _("The item code %s is used twice.") % item.code, "items", item.row, "item_code"
                )
            codes[item.code] = "item"
            if item.points <= 0 or item.points % HALF:
                err(
                    _("Item %s: points must be above zero, in steps of 0.5.") % item.code,
                    "items",
                    item.row,
                    "points",
                )
            if item.check not in CHECKS:
                err(
                    _("Item %(code)s: unknown check “%(check)s”; use %(all)s.")
                    % {"code": item.code, "check": item.check, "all": ", ".join(CHECKS)},
                    "items",
                    item.row,
                    "check",
                )
            if item.department not in departments:
                err(
                    _("Item %(code)s: unknown department %(dept)s.")
                    % {"code": item.code, "dept": item.department},
                    "items",
                    item.row,
                    "department",
                )
            if not item.title.strip():
                err(_("Item %s has no assessment content.") % item.code, "items", item.row, "item")
    if data.categories and category_sum != data.total_points:
        err(
            _("The categories add up to %(sum)s, not the total %(total)s.")
            % {"sum": category_sum, "total": data.total_points},
            "items",
            None,
            "category_points",
        )
    veto_codes: set[str] = set()
    for veto in data.vetoes:
        if veto.code in veto_codes or veto.code in codes:
            err(_("The veto code %s is used twice.") % veto.code, "vetoes", veto.row, "code")
        veto_codes.add(veto.code)
        if veto.department not in departments:
            err(
                _("Veto %(code)s: unknown department %(dept)s.")
                % {"code": veto.code, "dept": veto.department},
                "vetoes",
                veto.row,
                "department",
            )
        if not veto.condition.strip():
            err(_("Veto %s has no condition.") % veto.code, "vetoes", veto.row, "condition")
    return errors
