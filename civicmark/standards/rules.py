"""The content of a standard as plain values, and the rules it must keep (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from civicmark.core.errors import PlaceError
from civicmark.core.parsing import text_too_long

CHECKS = ("documents", "site_visit", "survey", "data")
HALF = Decimal("0.5")
STEPS = (Decimal("0.1"), Decimal("0.5"), Decimal(1))
KINDS = ("graded", "all_or_nothing", "per_occurrence", "bonus", "penalty")
COUNTED = ("graded", "all_or_nothing", "per_occurrence")  # the kinds that make the base
NA_RULES = ("exclude", "full")
GATE_EFFECTS = ("veto", "no_commendation", "cap")
VETO_EFFECTS = ("fail", "cap")

# The assessment method as tables write it: words -> the method they name. A text may hold
# several ("发放问卷、抽样电话回访", "查阅资料，实地查看"); the longest word at each place wins.
METHOD_WORDS = {
    "查阅资料": "documents",
    "查看资料": "documents",
    "查看台账": "documents",
    "台账": "documents",
    "资料": "documents",
    "档案": "documents",
    "实地查看": "site_visit",
    "实地检查": "site_visit",
    "现场": "site_visit",
    "实地": "site_visit",
    "问卷": "survey",
    "电话回访": "survey",
    "走访": "survey",
    "满意度": "survey",
    "测评": "survey",
    "调查": "survey",
    "数据": "data",
    "统计": "data",
    "系统": "data",
    # The codes themselves (the files this app wrote before the words were kept).
    "documents": "documents",
    "site_visit": "site_visit",
    "survey": "survey",
    "data": "data",
}
_LONGEST_FIRST = sorted(METHOD_WORDS, key=len, reverse=True)


def check_methods(words: str) -> list[str]:
    """The known methods (CheckMethod values) the words name, in order and once each; words
    that name none are kept by the caller, never refused."""
    text = words.lower()
    found: list[str] = []
    position = 0
    while position < len(text):
        for word in _LONGEST_FIRST:
            if text.startswith(word, position) and (
                not word.isascii() or _whole_word(text, position, len(word))
            ):
                if METHOD_WORDS[word] not in found:
                    found.append(METHOD_WORDS[word])
                position += len(word)
                break
        else:
            position += 1
    return found


def _whole_word(text: str, start: int, length: int) -> bool:
    """An English code counts only as a word of its own ("data", not "metadata")."""
    before = text[start - 1] if start else " "
    after = text[start + length] if start + length < len(text) else " "
    return not (before.isascii() and (before.isalnum() or before == "_")) and not (
        after.isascii() and (after.isalnum() or after == "_")
    )


def split_departments(text: str) -> list[str]:
    """Department codes as a cell lists them: "PSB", "PSB,CIVIL" or "PSB、CIVIL"."""
    return [
        code.strip()
        for code in text.replace("、", ",").replace("，", ",").split(",")
        if code.strip()
    ]


@dataclass
class ItemData:
    code: str
    title: str
    points: Decimal
    method: str
    # The assessment method as written (the `check` column): words, not only codes.
    check: str
    # The first department listed: it scores the item; `other_departments` score it too.
    department: str
    evidence: str
    row: int | None = None
    kind: str = "graded"
    step: Decimal | None = None
    per_occurrence: Decimal | None = None
    floor: Decimal | None = None
    na_rule: str = "exclude"
    gate_below: Decimal | None = None
    gate_effect: str = ""  # veto, no_commendation or cap (with gate_level)
    gate_level: str = ""
    other_departments: list[str] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        """Whether the item makes the base (bonus and penalty items lie outside it)."""
        return self.kind not in ("bonus", "penalty")

    @property
    def methods(self) -> list[str]:
        return check_methods(self.check)

    def rules(self) -> tuple:
        return (
            self.kind,
            self.step,
            self.per_occurrence,
            self.floor,
            self.na_rule,
            self.gate_below,
            self.gate_effect,
            self.gate_level,
            tuple(self.other_departments),
        )


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
    effect: str = "fail"  # fail or cap (with cap_level)
    cap_level: str = ""


class LevelData(NamedTuple):
    """An award band: `passing` bands lie from the pass mark up, failing ones (不合格) below."""

    name: str
    min_score: Decimal
    passing: bool = True
    row: int | None = None


@dataclass
class StandardData:
    slug: str
    name: str
    version: int
    total_points: Decimal
    pass_threshold: Decimal
    levels: list[LevelData] = field(default_factory=list)
    requirements: list[tuple[str, str]] = field(default_factory=list)
    categories: list[CategoryData] = field(default_factory=list)
    vetoes: list[VetoData] = field(default_factory=list)
    step: Decimal = HALF
    bonus_cap: Decimal | None = None
    # The row of each key on the workbook's `standard` sheet (for errors; not content).
    key_rows: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Levels may be given as (name, min_score) pairs: passing bands.
        self.levels = [LevelData(*lv) for lv in self.levels]

    def comparable(self) -> tuple:
        """Everything but the places in the source file: two equal standards compare equal."""
        return (
            self.slug,
            self.name,
            self.version,
            self.total_points,
            self.pass_threshold,
            self.step,
            self.bonus_cap,
            tuple((lv.name, lv.min_score, lv.passing) for lv in self.levels),
            tuple(self.requirements),
            tuple(
                (
                    c.code,
                    c.name,
                    c.points,
                    c.min_points,
                    tuple(
                        (
                            i.code,
                            i.title,
                            i.points,
                            i.method,
                            i.check,
                            i.department,
                            i.evidence,
                            *i.rules(),
                        )
                        for i in c.items
                    ),
                )
                for c in self.categories
            ),
            tuple((v.code, v.condition, v.department, v.effect, v.cap_level) for v in self.vetoes),
        )


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def _shown(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def validate(data: StandardData, departments: set[str]) -> list[PlaceError]:
    """Every rule a standard keeps, each error at its sheet, row and column (ADR 17).

    Item kinds: graded, all_or_nothing and per_occurrence items are *counted* (their maxima make
    their category's points); bonus items add above the total, up to the standard's bonus cap;
    a penalty item has no points (0 or empty) and takes off down to its negative floor."""
    errors: list[PlaceError] = []

    def err(
        message: str, sheet: str = "standard", row: int | None = None, column: str | None = None
    ) -> None:
        if sheet == "standard" and row is None and column:
            row = data.key_rows.get(column)
        errors.append(PlaceError(message, sheet=sheet, row=row, column=column))

    def fits(value: str, limit: int, sheet: str, row: int | None, column: str) -> None:
        # What the fields hold (PostgreSQL refuses longer text, SQLite would keep it).
        message = text_too_long(value, limit)
        if message:
            err(message, sheet, row, column)

    fits(data.slug, 80, "standard", None, "slug")
    fits(data.name, 200, "standard", None, "name")
    for level in data.levels:
        fits(level.name, 64, "levels", level.row, "name")
    for area, _text in data.requirements:
        fits(area, 100, "basics", None, "area")
    for cat in data.categories:
        fits(cat.code, 32, "items", cat.row, "category_code")
        fits(cat.name, 100, "items", cat.row, "category")
        for item in cat.items:
            fits(item.code, 32, "items", item.row, "item_code")
    for veto in data.vetoes:
        fits(veto.code, 32, "vetoes", veto.row, "code")
    if data.total_points <= 0:
        err(_("The total points must be above zero."), column="total_points")
    if not (0 < data.pass_threshold <= data.total_points):
        err(
            _("The pass threshold %(t)s must lie between 0 and the total %(total)s.")
            % {"t": data.pass_threshold, "total": data.total_points},
            column="pass_threshold",
        )
    if data.step not in STEPS:
        err(
            _("The step %(step)s is not allowed: use 0.1, 0.5 or 1.") % {"step": _shown(data.step)},
            column="step",
        )
    if data.bonus_cap is not None and data.bonus_cap <= 0:
        err(_("The bonus cap must be above zero (leave it empty for none)."), column="bonus_cap")
    seen_levels: set[str] = set()
    passing_levels: set[str] = set()
    for level in data.levels:
        name, minimum = level.name, level.min_score
        if name in seen_levels:
            err(_("The level “%s” is given twice.") % name, "levels", level.row, "name")
        seen_levels.add(name)
        if level.passing:
            passing_levels.add(name)
            if not (data.pass_threshold <= minimum <= data.total_points):
                err(
                    _(
                        "The level “%(name)s” starts at %(min)s, outside the pass threshold and the total."
                    )
                    % {"name": name, "min": minimum},
                    "levels",
                    level.row,
                    "min_score",
                )
        elif not (0 <= minimum < data.pass_threshold):
            err(
                _(
                    "The failing level “%(name)s” starts at %(min)s: a level that is not passing must lie from 0 up to below the pass threshold %(t)s."
                )
                % {"name": name, "min": minimum, "t": data.pass_threshold},
                "levels",
                level.row,
                "min_score",
            )

    def cap_known(level: str, where: str, code: str, sheet: str, row: int | None, col: str) -> None:
        if not level:
            err(
                _("%(where)s %(code)s: name the level it caps at, as “cap:LEVEL”.")
                % {"where": where, "code": code},
                sheet,
                row,
                col,
            )
        elif level not in passing_levels:
            err(
                _(
                    "%(where)s %(code)s: caps at “%(level)s”, which is not a passing level of the standard."
                )
                % {"where": where, "code": code, "level": level},
                sheet,
                row,
                col,
            )

    if not data.categories:
        err(_("The scoring table has no items."), sheet="items")
    codes: dict[str, str] = {}
    category_sum = Decimal(0)
    has_bonus = False
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
        item_sum = sum((i.points for i in cat.items if i.counted), Decimal(0))
        if item_sum != cat.points:
            err(
                _(
                    "The items of category %(code)s add up to %(sum)s, not its %(points)s points (bonus and penalty items do not count)."
                )
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
            errors.extend(_item_errors(item, data, departments, codes, cap_known))
            has_bonus = has_bonus or item.kind == "bonus"
    if has_bonus and data.bonus_cap is None:
        err(
            _("The table has bonus items: give the standard a bonus cap (bonus_cap / 加分上限)."),
            column="bonus_cap",
        )
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
        if veto.effect not in VETO_EFFECTS:
            err(
                _("Veto %(code)s: unknown effect “%(effect)s”; use fail or cap:LEVEL.")
                % {"code": veto.code, "effect": veto.effect},
                "vetoes",
                veto.row,
                "effect",
            )
        elif veto.effect == "cap":
            cap_known(veto.cap_level, _("Veto"), veto.code, "vetoes", veto.row, "effect")
        elif veto.cap_level:
            err(
                _("Veto %s: only a capping veto names a level.") % veto.code,
                "vetoes",
                veto.row,
                "effect",
            )
    return errors


def _item_errors(  # noqa: C901, PLR0912 - one rule after another, each with its message
    item: ItemData,
    data: StandardData,
    departments: set[str],
    codes: dict[str, str],
    cap_known: Any,
) -> list[PlaceError]:
    errors: list[PlaceError] = []
    code, row = item.code, item.row

    def err(message: str, column: str) -> None:
        errors.append(PlaceError(message, sheet="items", row=row, column=column))

    if item.code in codes:
        err(_("The item code %s is used twice.") % code, "item_code")
    codes[item.code] = "item"
    if not item.title.strip():
        err(_("Item %s has no assessment content.") % code, "item")
    for dept in [item.department, *item.other_departments]:
        if dept not in departments:
            err(
                _("Item %(code)s: unknown department %(dept)s.") % {"code": code, "dept": dept},
                "department",
            )
    if len({item.department, *item.other_departments}) != 1 + len(item.other_departments):
        err(_("Item %s lists a department twice.") % code, "department")
    if item.kind not in KINDS:
        err(
            _("Item %(code)s: unknown kind “%(kind)s”; use %(all)s.")
            % {"code": code, "kind": item.kind, "all": ", ".join(KINDS)},
            "kind",
        )
        return errors
    if item.step is not None and item.step not in STEPS:
        err(
            _("Item %(code)s: the step %(step)s is not allowed: use 0.1, 0.5 or 1.")
            % {"code": code, "step": _shown(item.step)},
            "step",
        )
        step = data.step
    else:
        step = item.step or data.step
    if step not in STEPS:
        step = HALF
    grid = {"code": code, "step": _shown(step)}
    if item.kind == "penalty":
        if item.points != 0:
            err(
                _(
                    "Item %s is a penalty: leave its points empty or 0 and put the most it takes off, as a negative number, in floor."
                )
                % code,
                "points",
            )
        if item.floor is None or item.floor >= 0:
            err(
                _(
                    "Item %(code)s is a penalty: its floor (%(value)s) must be below zero, for example -5."
                )
                % {"code": code, "value": _shown(item.floor) or _("empty")},
                "floor",
            )
        elif not _on_grid(item.floor, step):
            err(
                _("Item %(code)s: the floor %(value)s is not in steps of %(step)s.")
                % (grid | {"value": _shown(item.floor)}),
                "floor",
            )
    else:
        if item.points <= 0 or not _on_grid(item.points, step):
            err(
                _("Item %(code)s: points must be above zero, in steps of %(step)s (not %(value)s).")
                % (grid | {"value": _shown(item.points)}),
                "points",
            )
        if item.kind == "per_occurrence":
            if item.per_occurrence is None or item.per_occurrence <= 0:
                err(
                    _(
                        "Item %s is scored per occurrence: give the points taken off each time (above zero)."
                    )
                    % code,
                    "per_occurrence",
                )
            elif not _on_grid(item.per_occurrence, step):
                err(
                    _(
                        "Item %(code)s: the deduction per occurrence %(value)s is not in steps of %(step)s."
                    )
                    % (grid | {"value": _shown(item.per_occurrence)}),
                    "per_occurrence",
                )
            if item.floor is not None and not (0 <= item.floor <= item.points):
                err(
                    _(
                        "Item %(code)s: the floor %(value)s must lie between 0 and its %(points)s points."
                    )
                    % {"code": code, "points": _shown(item.points), "value": _shown(item.floor)},
                    "floor",
                )
            elif item.floor is not None and not _on_grid(item.floor, step):
                err(
                    _("Item %(code)s: the floor %(value)s is not in steps of %(step)s.")
                    % (grid | {"value": _shown(item.floor)}),
                    "floor",
                )
        else:
            if item.per_occurrence is not None:
                err(
                    _("Item %s: only an item scored per occurrence has a deduction per occurrence.")
                    % code,
                    "per_occurrence",
                )
            if item.floor is not None:
                err(
                    _("Item %s: only a per-occurrence or penalty item has a floor.") % code,
                    "floor",
                )
    if item.na_rule not in NA_RULES:
        err(
            _("Item %(code)s: unknown rule when not applicable “%(rule)s”; use exclude or full.")
            % {"code": code, "rule": item.na_rule},
            "na_rule",
        )
    if item.gate_effect and item.gate_effect not in GATE_EFFECTS:
        err(
            _(
                "Item %(code)s: unknown gate effect “%(effect)s”; use veto, no_commendation or cap:LEVEL."
            )
            % {"code": code, "effect": item.gate_effect},
            "gate_effect",
        )
    elif item.gate_effect and item.gate_below is None:
        err(
            _("Item %s has a gate effect but no threshold: give gate_below too.") % code,
            "gate_below",
        )
    elif item.gate_below is not None and not item.gate_effect:
        err(
            _("Item %s has a gate threshold but no effect: give gate_effect too.") % code,
            "gate_effect",
        )
    elif item.gate_effect == "cap":
        cap_known(item.gate_level, _("Item"), code, "items", row, "gate_effect")
    if item.gate_below is not None:
        low, high = (
            (item.floor or Decimal(0), Decimal(0))
            if item.kind == "penalty"
            else (
                Decimal(0),
                item.points,
            )
        )
        if not (low <= item.gate_below <= high):
            err(
                _(
                    "Item %(code)s: the gate threshold %(gate)s must lie between %(low)s and %(high)s."
                )
                % {
                    "code": code,
                    "gate": _shown(item.gate_below),
                    "low": _shown(low),
                    "high": _shown(high),
                },
                "gate_below",
            )
    return errors
