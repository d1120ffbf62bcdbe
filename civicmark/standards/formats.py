"""A standard as an .xlsx workbook (as officials write these tables) and as YAML.

Both formats carry the same content and round-trip: export, import, export gives the same cell
values (workbook) or the same text (YAML).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import yaml
from django.utils.translation import gettext as _
from openpyxl import Workbook

from civicmark.core.errors import ImportRefused, PlaceError
from civicmark.core.parsing import ParseError, parse_decimal, parse_int
from civicmark.core.tabular import Column, append_row, read_workbook, table_from_rows
from civicmark.standards.rules import CategoryData, ItemData, StandardData, VetoData

KEYS = {  # sheet `standard`: key -> Chinese alias
    "slug": "标识",
    "name": "名称",
    "version": "版本",
    "total_points": "总分",
    "pass_threshold": "达标分",
}
LEVEL_COLUMNS = [Column("name", ("等级",)), Column("min_score", ("最低分",))]
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
    Column("check", ("考核方式",)),
    Column("department", ("责任部门",)),
    Column("evidence", ("佐证材料",), required=False),
]
VETO_COLUMNS = [
    Column("code", ("编号",)),
    Column("condition", ("否决情形",)),
    Column("department", ("责任部门",)),
]
CHECK_WORDS = {
    "资料": "documents",
    "查阅资料": "documents",
    "实地查看": "site_visit",
    "现场": "site_visit",
    "问卷调查": "survey",
    "居民调查": "survey",
    "入户调查": "survey",
    "数据": "data",
    "数据核查": "data",
}
SHEETS_ZH = {
    "standard": "标准",
    "levels": "等级",
    "basics": "基本标准",
    "items": "评分表",
    "vetoes": "一票否决",
}


def _points(
    text: str, errors: list[PlaceError], sheet: str, row: int | None, column: str
) -> Decimal:
    try:
        # The column holds 99999.9 (max_digits=6, one place); never NaN or 1E+308.
        return parse_decimal(text, places=1, max_digits=6) or Decimal(0)
    except ParseError as exc:
        errors.append(PlaceError(exc.message, sheet=sheet, row=row, column=column, value=text))
        return Decimal(0)


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


def read_xlsx(content: bytes) -> StandardData:
    sheets = read_workbook(content)
    errors: list[PlaceError] = []
    missing = [
        k
        for k in ("standard", "levels", "items", "vetoes")
        if k not in sheets and SHEETS_ZH[k] not in sheets
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
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        key = aliases.get(row[0].strip().lower() if row[0].isascii() else row[0].strip())
        if key is None:
            errors.append(
                PlaceError(_("Unknown key “%s”.") % row[0], sheet=title, row=number, column="key")
            )
        else:
            values[key] = (number, row[1] if len(row) > 1 else "")
    for key in KEYS:
        if key not in values:
            errors.append(
                PlaceError(_("The key “%s” is missing.") % key, sheet=title, column="key")
            )

    def val(key: str) -> str:
        return values.get(key, (0, ""))[1].strip()

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
            )
        )
    data = StandardData(
        slug=val("slug"),
        name=val("name"),
        version=version,
        total_points=_points(
            val("total_points") or "0",
            errors,
            title,
            values.get("total_points", (None,))[0],
            "value",
        ),
        pass_threshold=_points(
            val("pass_threshold") or "0",
            errors,
            title,
            values.get("pass_threshold", (None,))[0],
            "value",
        ),
    )
    lt, lrows = _sheet(sheets, "levels")  # type: ignore[misc]
    for number, row in table_from_rows(lrows, LEVEL_COLUMNS, lt).rows:
        data.levels.append(
            (row["name"], _points(row["min_score"], errors, lt, number, "min_score"))
        )
    basics = _sheet(sheets, "basics", required=False)
    if basics:
        for _n, row in table_from_rows(basics[1], BASIC_COLUMNS, basics[0]).rows:
            data.requirements.append((row["area"], row["requirement"]))
    it, irows = _sheet(sheets, "items")  # type: ignore[misc]
    by_code: dict[str, CategoryData] = {}
    for number, row in table_from_rows(irows, ITEM_COLUMNS, it).rows:
        code = row["category_code"]
        cat = by_code.get(code)
        if cat is None:
            minimum = row.get("category_min", "")
            cat = CategoryData(
                code=code,
                name=row["category"],
                points=_points(row["category_points"], errors, it, number, "category_points"),
                min_points=_points(minimum, errors, it, number, "category_min")
                if minimum
                else None,
                row=number,
            )
            by_code[code] = cat
            data.categories.append(cat)
        elif (
            _points(row["category_points"] or "0", errors, it, number, "category_points")
            != cat.points
        ):
            errors.append(
                PlaceError(
                    _("Category %s has different points on different rows.") % code,
                    sheet=it,
                    row=number,
                    column="category_points",
                )
            )
        check = CHECK_WORDS.get(row["check"], row["check"])
        cat.items.append(
            ItemData(
                code=row["item_code"],
                title=row["item"],
                points=_points(row["points"], errors, it, number, "points"),
                method=row.get("method", ""),
                check=check,
                department=row["department"],
                evidence=row.get("evidence", ""),
                row=number,
            )
        )
    vt, vrows = _sheet(sheets, "vetoes")  # type: ignore[misc]
    for number, row in table_from_rows(vrows, VETO_COLUMNS, vt).rows:
        data.vetoes.append(
            VetoData(
                code=row["code"],
                condition=row["condition"],
                department=row["department"],
                row=number,
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


def write_xlsx(data: StandardData, *, chinese: bool = False) -> bytes:
    book = Workbook()

    def sheet(key: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        ws = book.create_sheet(SHEETS_ZH[key] if chinese else key)
        ws.append(header)
        for row in rows:
            append_row(ws, row)
        ws.freeze_panes = "A2"
        for i, width in enumerate(widths):
            ws.column_dimensions[chr(65 + i)].width = width

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
                ],
                strict=True,
            )
        ],
        [16, 60],
    )
    sheet(
        "levels",
        ["等级", "最低分"] if chinese else ["name", "min_score"],
        [[n, _num(m)] for n, m in data.levels],
        [20, 10],
    )
    sheet(
        "basics",
        ["领域", "要求"] if chinese else ["area", "requirement"],
        [list(r) for r in data.requirements],
        [20, 90],
    )
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
            i.department,
            i.evidence,
        ]
        for c in data.categories
        for i in c.items
    ]
    header = [c.aliases[0] for c in ITEM_COLUMNS] if chinese else [c.key for c in ITEM_COLUMNS]
    sheet("items", header, item_rows, [10, 18, 8, 8, 10, 50, 8, 50, 12, 10, 40])
    sheet(
        "vetoes",
        [c.aliases[0] for c in VETO_COLUMNS] if chinese else [c.key for c in VETO_COLUMNS],
        [[v.code, v.condition, v.department] for v in data.vetoes],
        [10, 80, 10],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_yaml(data: StandardData) -> str:
    doc = {
        "slug": data.slug,
        "name": data.name,
        "version": data.version,
        "total_points": _fmt(data.total_points),
        "pass_threshold": _fmt(data.pass_threshold),
        "levels": [{"name": n, "min_score": _fmt(m)} for n, m in data.levels],
        "basics": [{"area": a, "requirement": r} for a, r in data.requirements],
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "points": _fmt(c.points),
                "min_points": _fmt(c.min_points) or None,
                "items": [
                    {
                        "code": i.code,
                        "title": i.title,
                        "points": _fmt(i.points),
                        "method": i.method,
                        "check": i.check,
                        "department": i.department,
                        "evidence": i.evidence,
                    }
                    for i in c.items
                ],
            }
            for c in data.categories
        ],
        "vetoes": [
            {"code": v.code, "condition": v.condition, "department": v.department}
            for v in data.vetoes
        ],
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
    )
    for lv in doc.get("levels") or []:
        data.levels.append(
            (text_of(lv, "name", "levels"), pts(lv, "min_score", "levels") or Decimal(0))
        )
    for b in doc.get("basics") or []:
        data.requirements.append(
            (text_of(b, "area", "basics"), text_of(b, "requirement", "basics"))
        )
    for c in doc.get("categories") or []:
        where = f"category {c.get('code', '?')}"
        cat = CategoryData(
            code=text_of(c, "code", where),
            name=text_of(c, "name", where),
            points=pts(c, "points", where) or Decimal(0),
            min_points=pts(c, "min_points", where, True),
        )
        for i in c.get("items") or []:
            iw = f"item {i.get('code', '?')}"
            cat.items.append(
                ItemData(
                    code=text_of(i, "code", iw),
                    title=text_of(i, "title", iw),
                    points=pts(i, "points", iw) or Decimal(0),
                    method=str(i.get("method") or ""),
                    check=text_of(i, "check", iw),
                    department=text_of(i, "department", iw),
                    evidence=str(i.get("evidence") or ""),
                )
            )
        data.categories.append(cat)
    for v in doc.get("vetoes") or []:
        data.vetoes.append(
            VetoData(
                code=text_of(v, "code", "vetoes"),
                condition=text_of(v, "condition", "vetoes"),
                department=text_of(v, "department", "vetoes"),
            )
        )
    if errors:
        raise ImportRefused(errors=errors)
    return data
