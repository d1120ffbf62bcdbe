"""A standard as an .xlsx workbook (as officials write these tables) and as YAML.

Both formats carry the same content and round-trip: export, import, export gives the same cell
values (workbook) or the same text (YAML).
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import yaml
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from civicmark.core.errors import ImportRefused, PlaceError
from civicmark.core.parsing import ParseError, parse_decimal, parse_int
from civicmark.core.tabular import Column, append_row, read_workbook, table_from_rows
from civicmark.standards.rules import (
    HALF,
    CategoryData,
    ItemData,
    LevelData,
    StandardData,
    VetoData,
    split_departments,
)

KEYS = {  # sheet `standard`: key -> Chinese alias
    "slug": "标识",
    "name": "名称",
    "version": "版本",
    "total_points": "总分",
    "pass_threshold": "达标分",
    "step": "步长",
    "bonus_cap": "加分上限",
}
OPTIONAL_KEYS = ("step", "bonus_cap")
LEVEL_COLUMNS = [
    Column("name", ("等级",)),
    Column("min_score", ("最低分",)),
    Column("passing", ("是否达标",), required=False),
]
BASIC_COLUMNS = [Column("area", ("领域", "方面")), Column("requirement", ("要求", "基本标准"))]
ITEM_COLUMNS = [
    Column("category_code", ("类别编号",)),
    Column("category", ("类别",)),
    Column("category_points", ("类别分值",)),
    Column("category_min", ("类别最低分",), required=False),
    Column("item_code", ("项目编号",)),
    Column("item", ("考核内容",)),
    Column("points", ("分值",)),
    Column("method", ("评分标准",), required=False),
    Column("check", ("考核方式", "考核方法"), required=False),
    Column("department", ("责任部门", "责任单位")),
    Column("evidence", ("佐证材料",), required=False),
    Column("kind", ("计分方式",), required=False),
    Column("step", ("步长",), required=False),
    Column("per_occurrence", ("每次扣分",), required=False),
    Column("floor", ("最低得分",), required=False),
    Column("na_rule", ("不适用处理",), required=False),
    Column("gate_below", ("门槛分",), required=False),
    Column("gate_effect", ("门槛效果",), required=False),
]
VETO_COLUMNS = [
    Column("code", ("编号",)),
    Column("condition", ("否决情形",)),
    Column("department", ("责任部门", "责任单位")),
    Column("effect", ("否决效果",), required=False),
]
SHEETS_ZH = {
    "standard": "标准",
    "levels": "等级",
    "basics": "基本标准",
    "items": "评分表",
    "vetoes": "一票否决",
}
# The words each rule may be written in: English (as exported with English headers) first,
# then Chinese (as exported with Chinese headers) and any other accepted spelling.
KIND_WORDS = {
    "graded": ("graded", "评分"),
    "all_or_nothing": ("all_or_nothing", "全有全无"),
    "per_occurrence": ("per_occurrence", "按次扣分"),
    "bonus": ("bonus", "加分"),
    "penalty": ("penalty", "减分"),
}
NA_WORDS = {"exclude": ("exclude", "不计入"), "full": ("full", "计满分", "免检满分")}
GATE_WORDS = {
    "veto": ("veto", "否决"),
    "no_commendation": ("no_commendation", "不得表彰"),
    "cap": ("cap", "限定等级"),
}
VETO_EFFECT_WORDS = {"fail": ("fail", "不达标"), "cap": ("cap", "限定等级")}
YES_NO = {True: ("yes", "是", "true", "1"), False: ("no", "否", "false", "0")}
# Rows officials add to a table that carry no item: subtotals and notes.
SUBTOTAL_WORDS = ("小计", "合计", "总计", "subtotal", "total")
_NOTE = re.compile(r"(?:说明|备注|注|notes?)(?:$|[\s:：.、．,，0-9０-９(（])")


def _word(
    text: str,
    words: dict,
    errors: list[PlaceError],
    sheet: str,
    row: int,
    column: str,
    default: Any,
) -> Any:
    """The value a cell's word stands for (English or Chinese), or an error listing the words."""
    cleaned = text.strip()
    if not cleaned:
        return default
    for value, spellings in words.items():
        if cleaned.lower() in spellings:
            return value
    allowed = " / ".join("、".join(s[:2]) for s in words.values())
    errors.append(
        PlaceError(
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": cleaned, "allowed": allowed},
            sheet=sheet,
            row=row,
            column=column,
            value=text,
        )
    )
    return default


def _with_level(
    text: str, words: dict, errors: list[PlaceError], sheet: str, row: int, column: str
) -> tuple[str, str]:
    """An effect that may name a level: "cap:先进单位" / "限定等级：先进单位" -> ("cap", level)."""
    head, sep, level = text.strip().replace("：", ":").partition(":")
    effect = _word(head, words, errors, sheet, row, column, "")
    if effect == "cap" and not sep:
        errors.append(
            PlaceError(
                _("“%s”: name the level it caps at, as cap:LEVEL (限定等级:名称).") % text.strip(),
                sheet=sheet,
                row=row,
                column=column,
                value=text,
            )
        )
    if effect != "cap" and sep and effect:
        errors.append(
            PlaceError(
                _("“%s”: only a cap names a level.") % text.strip(),
                sheet=sheet,
                row=row,
                column=column,
                value=text,
            )
        )
    return effect, level.strip() if effect == "cap" else ""


def _effect_text(effect: str, level: str, words: dict, chinese: bool) -> str:
    if not effect:
        return ""
    word = words[effect][1 if chinese else 0]
    return f"{word}:{level}" if effect == "cap" else word


def _decimal(
    text: str,
    errors: list[PlaceError],
    sheet: str | None,
    row: int | None,
    column: str,
    *,
    places: int = 1,
    max_digits: int = 6,
    negative: bool = False,
) -> Decimal | None:
    """A number as the field holds it, or None for an empty cell. More decimal places than the
    field keeps are refused (0.25 is not 0.3), except a spreadsheet's float noise."""
    try:
        value = parse_decimal(
            text,
            places=9,
            max_digits=max_digits - places + 9,
            min_value=None if negative else 0,
        )
    except ParseError as exc:
        errors.append(PlaceError(exc.message, sheet=sheet, row=row, column=column, value=text))
        return None
    if value is None:
        return None
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded != value:
        errors.append(
            PlaceError(
                _("“%(value)s” has more than %(places)d decimal places.")
                % {"value": text.strip(), "places": places},
                sheet=sheet,
                row=row,
                column=column,
                value=text,
            )
        )
    return rounded


def _points(
    text: str,
    errors: list[PlaceError],
    sheet: str | None,
    row: int | None,
    column: str,
    *,
    negative: bool = False,
) -> Decimal:
    # The column holds 99999.9 (max_digits=6, one place); never NaN or 1E+308.
    return _decimal(text, errors, sheet, row, column, negative=negative) or Decimal(0)


def _is_note(row: list[str]) -> bool:
    """A row of one text cell starting 说明, 备注 or 注 (a note under or above a table): "注：",
    "注1.", "说明" - but not a word that merely starts so, such as "注册"."""
    filled = [c.strip() for c in row if c and c.strip()]
    return len(filled) == 1 and _NOTE.match(filled[0].lower()) is not None


# Headers of a running-number column, which real tables often put first.
RUNNING_NUMBER = frozenset({"序号", "no.", "no", "#"})


def _is_subtotal(text: str) -> bool:
    return "".join(text.split()).lower().startswith(SUBTOTAL_WORDS)


def _norm(text: str) -> str:
    return str(text).strip().lower().replace(" ", "_")  # as the tables' headers compare


def _header_index(rows: list[list[str]], columns: list[Column]) -> int:
    """The row holding the header: the first with two known column names (title rows above
    it are skipped); the first row when none has."""
    names = {name for col in columns for name in col.names()}
    for index, row in enumerate(rows[:30]):
        if sum(1 for cell in row if cell and _norm(cell) in names) >= 2:
            return index
    return 0


def _table(rows: list[list[str]], columns: list[Column], sheet: str) -> list[tuple[int, dict]]:
    """The data rows of a sheet as officials lay it out, numbered as Excel shows them: the
    header found below any title rows, note rows left out."""
    top = _header_index(rows, columns)
    body = [[] if number and _is_note(row) else row for number, row in enumerate(rows[top:])]
    if body:
        # Headers wrapped onto two lines in the cell ("考核\n内容") read as one; a running
        # number column (序号) that officials put first carries nothing and is left out.
        body[0] = [str(c).replace("\r", "").replace("\n", "") if c else c for c in body[0]]
        known = {name for col in columns for name in col.names()}
        running = {
            i
            for i, cell in enumerate(body[0])
            if cell and _norm(cell) in RUNNING_NUMBER and _norm(cell) not in known
        }
        if running:
            body = [[c for i, c in enumerate(row) if i not in running] for row in body]
    try:
        table = table_from_rows(body, columns, sheet)
    except ImportRefused as refused:
        if not top:
            raise
        raise ImportRefused(
            errors=[replace(e, row=e.row + top) if e.row is not None else e for e in refused.errors]
        ) from refused
    return [(number + top, row) for number, row in table.rows]


def _version(text: str) -> int | None:
    """A version number as the column holds it, or None ("²" and 10^23 are none)."""
    try:
        return parse_int(text, min_value=0)
    except ParseError:
        return None


def _sheet(
    sheets: dict[str, list[list[str]]], key: str, required: bool = True
) -> tuple[str, list[list[str]]] | None:
    for title in (key, SHEETS_ZH[key]):
        if title in sheets:
            return title, sheets[title]
    if required:
        raise ImportRefused(
            errors=[
                PlaceError(
                    _("The workbook has no sheet “%(en)s” (or “%(zh)s”).")
                    % {"en": key, "zh": SHEETS_ZH[key]}
                )
            ]
        )
    return None


def read_xlsx(content: bytes) -> StandardData:  # noqa: C901, PLR0915 - sheet after sheet
    sheets = read_workbook(content)
    errors: list[PlaceError] = []
    missing = [
        k for k in ("standard", "items", "vetoes") if k not in sheets and SHEETS_ZH[k] not in sheets
    ]
    if missing:
        raise ImportRefused(
            errors=[
                PlaceError(
                    _("The workbook has no sheet “%(en)s” (or “%(zh)s”).")
                    % {"en": k, "zh": SHEETS_ZH[k]}
                )
                for k in missing
            ]
        )
    title, rows = _sheet(sheets, "standard")  # type: ignore[misc]
    values: dict[str, tuple[int, str]] = {}
    aliases = {v: k for k, v in KEYS.items()} | {k: k for k in KEYS}
    # The key/value header ("key, value" or "键, 值"), below any title rows.
    top = next((i for i, row in enumerate(rows[:30]) if row and _norm(row[0]) in ("key", "键")), 0)
    for number, row in enumerate(rows[top + 1 :], start=top + 2):
        if not any(row) or _is_note(row):
            continue
        key = aliases.get(row[0].strip().lower() if row[0].isascii() else row[0].strip())
        if key is None:
            errors.append(
                PlaceError(
                    _("Unknown key “%s”.") % row[0],
                    sheet=title,
                    row=number,
                    column="key",
                    value=row[0],
                )
            )
        else:
            values[key] = (number, row[1] if len(row) > 1 else "")
    for key in KEYS:
        if key not in values and key not in OPTIONAL_KEYS:
            errors.append(
                PlaceError(_("The key “%s” is missing.") % key, sheet=title, column="key")
            )

    def val(key: str) -> str:
        return values.get(key, (0, ""))[1].strip()

    def at(key: str) -> int | None:
        return values.get(key, (None,))[0]

    version_text = val("version")
    parsed = _version(version_text)
    version = parsed or 0
    if "version" in values and parsed is None:
        errors.append(
            PlaceError(
                _("The version must be a whole number."),
                sheet=title,
                row=values["version"][0],
                column="value",
                value=version_text,
            )
        )
    data = StandardData(
        slug=val("slug"),
        name=val("name"),
        version=version,
        total_points=_points(
            val("total_points") or "0", errors, title, at("total_points"), "value"
        ),
        pass_threshold=_points(
            val("pass_threshold") or "0", errors, title, at("pass_threshold"), "value"
        ),
        step=_decimal(val("step"), errors, title, at("step"), "value") or HALF,
        bonus_cap=_decimal(val("bonus_cap"), errors, title, at("bonus_cap"), "value"),
    )
    data.key_rows = {key: number for key, (number, _v) in values.items()}
    levels = _sheet(sheets, "levels", required=False)
    if levels and any(any(r) for r in levels[1]):  # a standard may have no award level
        lt, lrows = levels
        for number, row in _table(lrows, LEVEL_COLUMNS, lt):
            data.levels.append(
                LevelData(
                    row["name"],
                    _points(row["min_score"], errors, lt, number, "min_score"),
                    _word(row.get("passing", ""), YES_NO, errors, lt, number, "passing", True),
                    number,
                )
            )
    basics = _sheet(sheets, "basics", required=False)
    if basics and any(any(r) for r in basics[1]):
        for _n, row in _table(basics[1], BASIC_COLUMNS, basics[0]):
            data.requirements.append((row["area"], row["requirement"]))
    it, irows = _sheet(sheets, "items")  # type: ignore[misc]
    by_code: dict[str, CategoryData] = {}
    last: CategoryData | None = None
    for number, row in _table(irows, ITEM_COLUMNS, it):
        if (not row["item_code"] or _is_subtotal(row["item_code"])) and any(
            _is_subtotal(v) for v in row.values()
        ):
            continue  # a subtotal or total row: the table adds up by itself
        code = row["category_code"]
        if not code and last is not None and row["category"].strip() not in ("", last.name):
            code = ""  # a new category named without a code: refused below
        elif not code and last is not None:
            code = last.code  # a merged (or blank) category cell continues the one above
        if not code:
            errors.append(
                PlaceError(
                    _("The item has no category code."),
                    sheet=it,
                    row=number,
                    column="category_code",
                )
            )
        cat = by_code.get(code)
        if cat is None:
            minimum = row.get("category_min", "")
            cat = CategoryData(
                code=code,
                name=row["category"],
                points=_points(row["category_points"], errors, it, number, "category_points"),
                min_points=_decimal(minimum, errors, it, number, "category_min"),
                row=number,
            )
            by_code[code] = cat
            data.categories.append(cat)
        elif row["category_points"].strip() and (
            _points(row["category_points"], errors, it, number, "category_points") != cat.points
        ):
            errors.append(
                PlaceError(
                    _("Category %s has different points on different rows.") % code,
                    sheet=it,
                    row=number,
                    column="category_points",
                    value=row["category_points"],
                )
            )
        last = cat
        kind = _word(row.get("kind", ""), KIND_WORDS, errors, it, number, "kind", "graded")
        gate_effect, gate_level = _with_level(
            row.get("gate_effect", ""), GATE_WORDS, errors, it, number, "gate_effect"
        )
        departments = split_departments(row["department"])
        cat.items.append(
            ItemData(
                code=row["item_code"],
                title=row["item"],
                points=_points(row["points"], errors, it, number, "points", negative=True),
                method=row.get("method", ""),
                check=row.get("check", "").strip(),
                department=departments[0] if departments else "",
                evidence=row.get("evidence", ""),
                row=number,
                kind=kind,
                step=_decimal(row.get("step", ""), errors, it, number, "step"),
                per_occurrence=_decimal(
                    row.get("per_occurrence", ""), errors, it, number, "per_occurrence"
                ),
                floor=_decimal(row.get("floor", ""), errors, it, number, "floor", negative=True),
                na_rule=_word(
                    row.get("na_rule", ""), NA_WORDS, errors, it, number, "na_rule", "exclude"
                ),
                gate_below=_decimal(
                    row.get("gate_below", ""),
                    errors,
                    it,
                    number,
                    "gate_below",
                    places=2,
                    max_digits=7,
                    negative=True,
                ),
                gate_effect=gate_effect,
                gate_level=gate_level,
                other_departments=departments[1:],
            )
        )
    vt, vrows = _sheet(sheets, "vetoes")  # type: ignore[misc]
    if any(any(r) for r in vrows):
        for number, row in _table(vrows, VETO_COLUMNS, vt):
            effect, cap_level = _with_level(
                row.get("effect", ""), VETO_EFFECT_WORDS, errors, vt, number, "effect"
            )
            data.vetoes.append(
                VetoData(
                    code=row["code"],
                    condition=row["condition"],
                    department=row["department"].strip(),
                    row=number,
                    effect=effect or "fail",
                    cap_level=cap_level,
                )
            )
    if errors:
        raise ImportRefused(errors=errors)
    return data


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _num(value: Decimal | None) -> int | float | None:
    """Points as the number a spreadsheet shows: 10, not 10.0; 2.5 stays 2.5."""
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def _help_rows() -> list[list[str]]:
    """What each column of the scoring table holds, in the workbook's language."""
    return [
        [
            "kind / 计分方式",
            _(
                "graded (评分, 0 to the points on the step), all_or_nothing (全有全无, 0 or the points), per_occurrence (按次扣分, the points less the deduction per occurrence each time, down to the floor), bonus (加分, above the total, up to the standard's bonus_cap), penalty (减分). Empty: graded."
            ),
        ],
        [
            "points / 分值",
            _(
                "The item's maximum, on its step. Bonus and penalty items do not count toward their category's points. A penalty item has no points: leave 分值 empty or 0 and write the most it takes off as a negative floor (最低得分), for example -5."
            ),
        ],
        [
            "step / 步长",
            _("0.1, 0.5 or 1; empty: the standard's step (0.5 unless the standard sheet says)."),
        ],
        [
            "per_occurrence / 每次扣分, floor / 最低得分",
            _(
                "Per-occurrence items: the points taken off each time, and the lowest points (0 to the item's points, 0 when empty)."
            ),
        ],
        [
            "na_rule / 不适用处理",
            _(
                "exclude (不计入, left out of the denominator; the default) or full (计满分, counted as full marks)."
            ),
        ],
        [
            "gate_below / 门槛分, gate_effect / 门槛效果",
            _(
                "An item's value strictly below the threshold: veto (否决), no_commendation (不得表彰) or cap:LEVEL (限定等级:名称, a passing level). Both or neither."
            ),
        ],
        [
            "department / 责任部门",
            _(
                "One code, or several separated by “,” or “、”: the first scores the item, the others too."
            ),
        ],
        [
            "check / 考核方式",
            _(
                "The assessment method as the table writes it (optional, several allowed: “发放问卷、抽样电话回访”); known words are read as documents, site visit, survey or data."
            ),
        ],
        [
            "passing / 是否达标",
            _(
                "Levels: yes (是) for a band from the pass mark up, no (否) for a failing band below it. A standard may have no level."
            ),
        ],
        [
            "effect / 否决效果",
            _("Vetoes: fail (不达标, the default) or cap:LEVEL (限定等级:名称)."),
        ],
        [
            "小计 / 合计 / 说明",
            _(
                "Title rows above the header, merged category cells, subtotal rows and note rows are allowed and ignored."
            ),
        ],
    ]


def write_xlsx(data: StandardData, *, chinese: bool = True) -> bytes:
    """The standard as a workbook, with Chinese sheet names, headers and rule words by default."""
    book = Workbook()

    def sheet(key: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        ws = book.create_sheet(SHEETS_ZH[key] if chinese else key)
        ws.append(header)
        for row in rows:
            append_row(ws, row)
        ws.freeze_panes = "A2"
        for i, width in enumerate(widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = width

    def heads(columns: list[Column]) -> list[str]:
        return [c.aliases[0] for c in columns] if chinese else [c.key for c in columns]

    def word(words: dict, value: Any) -> str:
        return words[value][1 if chinese else 0]  # type: ignore[no-any-return]

    book.remove(book.active)  # type: ignore[arg-type]
    keys = list(KEYS)
    sheet(
        "standard",
        ["键", "值"] if chinese else ["key", "value"],
        [
            [KEYS[k] if chinese else k, v]
            for k, v in zip(
                keys,
                [
                    data.slug,
                    data.name,
                    data.version,
                    _num(data.total_points),
                    _num(data.pass_threshold),
                    _num(data.step),
                    _num(data.bonus_cap),
                ],
                strict=True,
            )
        ],
        [16, 60],
    )
    sheet(
        "levels",
        heads(LEVEL_COLUMNS),
        [[lv.name, _num(lv.min_score), word(YES_NO, lv.passing)] for lv in data.levels],
        [20, 10, 10],
    )
    sheet(
        "basics",
        ["领域", "要求"] if chinese else ["area", "requirement"],
        [list(r) for r in data.requirements],
        [20, 90],
    )
    separator = "、" if chinese else ","
    item_rows = [
        [
            c.code,
            c.name,
            _num(c.points),
            _num(c.min_points),
            i.code,
            i.title,
            _num(i.points),
            i.method,
            i.check,
            separator.join([i.department, *i.other_departments]),
            i.evidence,
            word(KIND_WORDS, i.kind),
            _num(i.step),
            _num(i.per_occurrence),
            _num(i.floor),
            word(NA_WORDS, i.na_rule),
            _num(i.gate_below),
            _effect_text(i.gate_effect, i.gate_level, GATE_WORDS, chinese),
        ]
        for c in data.categories
        for i in c.items
    ]
    sheet(
        "items",
        heads(ITEM_COLUMNS),
        item_rows,
        [10, 18, 8, 8, 10, 50, 8, 50, 16, 12, 40, 10, 8, 8, 8, 10, 8, 16],
    )
    sheet(
        "vetoes",
        heads(VETO_COLUMNS),
        [
            [
                v.code,
                v.condition,
                v.department,
                _effect_text(v.effect, v.cap_level, VETO_EFFECT_WORDS, chinese),
            ]
            for v in data.vetoes
        ],
        [10, 80, 10, 16],
    )
    with translation.override("zh-hans" if chinese else "en"):
        about = book.create_sheet("说明" if chinese else "help")
        for row in _help_rows():
            append_row(about, row)
        about.column_dimensions["A"].width = 36
        about.column_dimensions["B"].width = 110
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_yaml(data: StandardData) -> str:
    """The standard as YAML; a rule at its default is left out, so that files written before
    the rules existed read back (and write out) exactly as they were."""

    def item_doc(i: ItemData) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "code": i.code,
            "title": i.title,
            "points": _fmt(i.points),
            "method": i.method,
            "check": i.check,
            "department": i.department
            if not i.other_departments
            else [i.department, *i.other_departments],
            "evidence": i.evidence,
        }
        if i.kind != "graded":
            doc["kind"] = i.kind
        for key in ("step", "per_occurrence", "floor", "gate_below"):
            if getattr(i, key) is not None:
                doc[key] = _fmt(getattr(i, key))
        if i.na_rule != "exclude":
            doc["na_rule"] = i.na_rule
        if i.gate_effect:
            doc["gate_effect"] = _effect_text(i.gate_effect, i.gate_level, GATE_WORDS, False)
        return doc

    def level_doc(lv: LevelData) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": lv.name, "min_score": _fmt(lv.min_score)}
        if not lv.passing:
            doc["passing"] = False
        return doc

    def veto_doc(v: VetoData) -> dict[str, Any]:
        doc = {"code": v.code, "condition": v.condition, "department": v.department}
        if v.effect != "fail":
            doc["effect"] = _effect_text(v.effect, v.cap_level, VETO_EFFECT_WORDS, False)
        return doc

    doc: dict[str, Any] = {
        "slug": data.slug,
        "name": data.name,
        "version": data.version,
        "total_points": _fmt(data.total_points),
        "pass_threshold": _fmt(data.pass_threshold),
    }
    if data.step != HALF:
        doc["step"] = _fmt(data.step)
    if data.bonus_cap is not None:
        doc["bonus_cap"] = _fmt(data.bonus_cap)
    doc |= {
        "levels": [level_doc(lv) for lv in data.levels],
        "basics": [{"area": a, "requirement": r} for a, r in data.requirements],
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "points": _fmt(c.points),
                "min_points": _fmt(c.min_points) or None,
                "items": [item_doc(i) for i in c.items],
            }
            for c in data.categories
        ],
        "vetoes": [veto_doc(v) for v in data.vetoes],
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def from_yaml(text: bytes | str) -> StandardData:
    errors: list[PlaceError] = []
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ImportRefused(
            errors=[
                PlaceError(
                    _("The YAML cannot be read: %s") % getattr(exc, "problem", exc),
                    row=mark.line + 1 if mark else None,
                )
            ]
        ) from exc
    if not isinstance(doc, dict):
        raise ImportRefused(
            errors=[PlaceError(_("The YAML must be a mapping with slug, name, version…"))]
        )

    def text_of(node: dict, key: str, where: str) -> str:
        value = node.get(key)
        if value is None:
            errors.append(
                PlaceError(
                    _("%(where)s: “%(key)s” is missing.") % {"where": where, "key": key}, column=key
                )
            )
            return ""
        return str(value).strip()

    def pts(node: dict, key: str, where: str, optional: bool = False) -> Decimal | None:
        raw = node.get(key)
        if raw is None or raw == "":
            if not optional:
                errors.append(
                    PlaceError(
                        _("%(where)s: “%(key)s” is missing.") % {"where": where, "key": key},
                        column=key,
                    )
                )
            return None
        return _points(str(raw), errors, where, None, key)

    def mappings(value: Any, where: str) -> list[dict]:
        """The entries of a list of mappings; anything else is refused, never a server error."""
        if value is None or value == "":
            return []
        if not isinstance(value, list):
            errors.append(PlaceError(_("“%s” must be a list.") % where, column=where))
            return []
        found = []
        for number, node in enumerate(value, start=1):
            if isinstance(node, dict):
                found.append(node)
            else:
                errors.append(
                    PlaceError(
                        _("Entry %(n)d of “%(where)s” must be a mapping of keys and values.")
                        % {"n": number, "where": where},
                        column=where,
                        value=str(node)[:100],
                    )
                )
        return found

    def opt(node: dict, key: str, where: str, **kw: Any) -> Decimal | None:
        raw = node.get(key)
        if raw is None or raw == "":
            return None
        return _decimal(str(raw), errors, where, None, key, **kw)

    def word(node: dict, key: str, where: str, words: dict, default: Any) -> Any:
        raw = node.get(key)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            raw = "yes" if raw else "no"
        return _word(str(raw), words, errors, where, None, key, default)  # type: ignore[arg-type]

    def effect(node: dict, key: str, where: str, words: dict) -> tuple[str, str]:
        raw = node.get(key)
        if raw is None or raw == "":
            return "", ""
        return _with_level(str(raw), words, errors, where, None, key)  # type: ignore[arg-type]

    def departments(node: dict, where: str) -> list[str]:
        raw = node.get("department")
        if isinstance(raw, list):
            return [str(d).strip() for d in raw if str(d).strip()]
        return split_departments(text_of(node, "department", where))

    parsed = _version(str(doc.get("version", 0)))
    version = parsed or 0
    if parsed is None:
        errors.append(PlaceError(_("The version must be a whole number."), column="version"))
    data = StandardData(
        slug=text_of(doc, "slug", "standard"),
        name=text_of(doc, "name", "standard"),
        version=version,
        total_points=pts(doc, "total_points", "standard") or Decimal(0),
        pass_threshold=pts(doc, "pass_threshold", "standard") or Decimal(0),
        step=opt(doc, "step", "standard") or HALF,
        bonus_cap=opt(doc, "bonus_cap", "standard"),
    )
    for lv in mappings(doc.get("levels"), "levels"):
        data.levels.append(
            LevelData(
                text_of(lv, "name", "levels"),
                pts(lv, "min_score", "levels") or Decimal(0),
                word(lv, "passing", "levels", YES_NO, True),
            )
        )
    for b in mappings(doc.get("basics"), "basics"):
        data.requirements.append(
            (text_of(b, "area", "basics"), text_of(b, "requirement", "basics"))
        )
    for c in mappings(doc.get("categories"), "categories"):
        where = f"category {c.get('code', '?')}"
        cat = CategoryData(
            code=text_of(c, "code", where),
            name=text_of(c, "name", where),
            points=pts(c, "points", where) or Decimal(0),
            min_points=pts(c, "min_points", where, True),
        )
        for i in mappings(c.get("items"), where):
            iw = f"item {i.get('code', '?')}"
            kind = word(i, "kind", iw, KIND_WORDS, "graded")
            gate_effect, gate_level = effect(i, "gate_effect", iw, GATE_WORDS)
            depts = departments(i, iw)
            cat.items.append(
                ItemData(
                    code=text_of(i, "code", iw),
                    title=text_of(i, "title", iw),
                    points=(
                        opt(i, "points", iw, negative=True) or Decimal(0)
                        if kind == "penalty"
                        else pts(i, "points", iw) or Decimal(0)
                    ),
                    method=str(i.get("method") or ""),
                    check=str(i.get("check") or "").strip(),
                    department=depts[0] if depts else "",
                    evidence=str(i.get("evidence") or ""),
                    kind=kind,
                    step=opt(i, "step", iw),
                    per_occurrence=opt(i, "per_occurrence", iw),
                    floor=opt(i, "floor", iw, negative=True),
                    na_rule=word(i, "na_rule", iw, NA_WORDS, "exclude"),
                    gate_below=opt(i, "gate_below", iw, places=2, max_digits=7, negative=True),
                    gate_effect=gate_effect,
                    gate_level=gate_level,
                    other_departments=depts[1:],
                )
            )
        data.categories.append(cat)
    for v in mappings(doc.get("vetoes"), "vetoes"):
        veto_effect, cap_level = effect(v, "effect", "vetoes", VETO_EFFECT_WORDS)
        data.vetoes.append(
            VetoData(
                code=text_of(v, "code", "vetoes"),
                condition=text_of(v, "condition", "vetoes"),
                department=text_of(v, "department", "vetoes"),
                effect=veto_effect or "fail",
                cap_level=cap_level,
            )
        )
    if errors:
        raise ImportRefused(errors=errors)
    return data
