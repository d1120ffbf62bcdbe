"""Reading and writing the simple tables that officials exchange: .xlsx and .csv.

A table is a header row and data rows. Headers may be written in English or Chinese; each
importer gives its columns as `Column(key, aliases)`. Row numbers are the ones a clerk sees in
Excel (the header is row 1), so that every error can point at its place.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from civicmark.core.errors import ImportRefused, PlaceError


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def names(self) -> set[str]:
        return {_norm(self.key), *(_norm(a) for a in self.aliases)}


@dataclass
class Table:
    sheet: str | None
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _norm(text: str) -> str:
    return str(text).strip().lower().replace(" ", "_")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel keeps every number as a float: 120.0 households are 120.
        return str(int(value))
    return str(value).strip()


def _decode_csv(data: bytes) -> str:
    # Excel and WPS on Chinese Windows save CSV in GB18030 (GBK); others in UTF-8 with or
    # without a byte-order mark.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(errors=[PlaceError(_("The file is neither UTF-8 nor GBK text."))])


def _raw_rows(data: bytes, filename: str, sheet: str | None) -> tuple[str | None, list[list[str]]]:
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        text = _decode_csv(data)
        rows = csv.reader(io.StringIO(text))
        return None, [[csv_unquote(_cell_text(c)) for c in row] for row in rows]
    if suffix in (".xlsx", ".xlsm"):
        sheets = read_workbook(data)
        if sheet is not None and sheet not in sheets:
            raise ImportRefused(
                errors=[PlaceError(_("The workbook has no sheet named “%s”.") % sheet)]
            )
        title = sheet or next(iter(sheets))
        return title, sheets[title]
    raise ImportRefused(
        errors=[PlaceError(_("Unsupported file type “%s”: use .xlsx or .csv.") % suffix)]
    )


def read_workbook(data: bytes) -> dict[str, list[list[str]]]:
    """Every sheet of an .xlsx workbook as rows of cell text (workbooks saved by Excel, WPS or
    LibreOffice alike: only cell values are read, never formulas or styles)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRefused(
            errors=[PlaceError(_("The file is not a readable .xlsx workbook (%s).") % exc)]
        ) from exc
    try:
        return {
            ws.title: [[_cell_text(c) for c in row] for row in ws.iter_rows(values_only=True)]
            for ws in book.worksheets
        }
    finally:
        book.close()


def read_table(
    data: bytes, filename: str, columns: Sequence[Column], sheet: str | None = None
) -> Table:
    """Parse a file into rows keyed by column key; raise ImportRefused for a bad header."""
    sheet_name, raw = _raw_rows(data, filename, sheet)
    return table_from_rows(raw, columns, sheet_name)


def table_from_rows(
    raw: list[list[str]], columns: Sequence[Column], sheet_name: str | None
) -> Table:
    raw = list(raw)
    while raw and not any(raw[-1]):
        raw.pop()
    if not raw:
        raise ImportRefused(errors=[PlaceError(_("The file is empty."), sheet=sheet_name)])
    header = raw[0]
    by_name = {name: col for col in columns for name in col.names()}
    positions: dict[str, int] = {}
    errors: list[PlaceError] = []
    for index, title in enumerate(header):
        if not title:
            continue
        col = by_name.get(_norm(title))
        if col is None:
            errors.append(
                PlaceError(
                    _("Unknown column “%(title)s”; expected: %(expected)s.")
                    % {"title": title, "expected": ", ".join(c.key for c in columns)},
                    row=1,
                    column=title,
                    sheet=sheet_name,
                )
            )
        elif col.key in positions:
            errors.append(
                PlaceError(_("Column given twice."), row=1, column=title, sheet=sheet_name)
            )
        else:
            positions[col.key] = index
    for col in columns:
        if col.required and col.key not in positions:
            errors.append(
                PlaceError(_("Required column “%s” is missing.") % col.key, row=1, sheet=sheet_name)
            )
    if errors:
        raise ImportRefused(errors=errors)
    table = Table(sheet=sheet_name)
    for number, values in enumerate(raw[1:], start=2):
        if not any(values):
            continue
        row = {key: (values[pos] if pos < len(values) else "") for key, pos in positions.items()}
        table.rows.append((number, row))
    return table


def parse_int(text: str, *, minimum: int = 0) -> int | None:
    """Return None for an empty cell; raise ValueError with a clerk's sentence otherwise."""
    if text == "":
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(_("“%s” is not a whole number.") % text) from exc
    if value != value.to_integral_value():
        raise ValueError(_("“%s” is not a whole number.") % text)
    if value < minimum:
        raise ValueError(
            _("%(value)s is below the minimum %(min)s.") % {"value": text, "min": minimum}
        )
    return int(value)


def parse_decimal(text: str, *, places: int = 2) -> Decimal | None:
    if text == "":
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(_("“%s” is not a number.") % text) from exc
    if not value.is_finite() or value < 0:
        raise ValueError(_("“%s” is not a positive number.") % text)
    return value.quantize(Decimal(1).scaleb(-places))


def write_table(
    path_or_file: str | Path | IO[bytes],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    fmt: str,
    sheet: str = "data",
    number_formats: dict[int, str] | None = None,
    notes: Sequence[tuple[str, Any]] = (),
) -> None:
    """Write rows as .xlsx (frozen header, sensible widths, number formats by column index, and
    an optional second sheet of notes) or as UTF-8 CSV with a BOM."""
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else csv_safe(v) for v in row] for row in rows)
        payload = ("\ufeff" + text.getvalue()).encode("utf-8")
        if isinstance(path_or_file, str | Path):
            Path(path_or_file).write_bytes(payload)
        else:
            path_or_file.write(payload)
        return
    # Streamed (write-only): a province's table of 10,000 rows and 20 columns would otherwise
    # be held cell by cell in memory and written several times slower.
    clean = [
        [
            "" if v is None else ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
            for v in row
        ]
        for row in rows
    ]
    widths = [max(8, len(str(h)) + 2) for h in header]
    for values in clean:
        for i, v in enumerate(values):
            shown = str(v)
            widths[i] = min(60, max(widths[i], len(shown) * (1 if shown.isascii() else 2) + 2))
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    bold = Font(bold=True)
    ws.append([_cell(ws, h, font=bold) for h in header])
    formats = number_formats or {}
    for values in clean:
        ws.append(
            [
                _cell(ws, v, number_format=formats.get(i))
                if i in formats or (isinstance(v, str) and v.startswith("="))
                else v
                for i, v in enumerate(values)
            ]
        )
    if notes:
        about = book.create_sheet("notes")
        about.column_dimensions["A"].width = 18
        about.column_dimensions["B"].width = 60
        for key, value in notes:
            about.append([_cell(about, key), _cell(about, value)])
    book.save(path_or_file)


def _cell(ws: Any, value: Any, *, font: Any = None, number_format: str | None = None) -> Any:
    """A streamed cell; text is always text (a value starting with "=" never becomes a formula)."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if number_format:
        cell.number_format = number_format
    return cell


FORMULA_START = ("=", "+", "-", "@")


def append_row(ws: Any, values: Sequence[Any]) -> None:
    """Append a row in which text is always text: a name such as "=1+1" must never become a
    formula (it would be lost on reading back, and formulas in exports are an attack vector)."""
    values = list(values)
    ws.append(values)
    # The row just written (not ws.max_row, which scans every cell of the sheet each time).
    row = ws._current_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and value.startswith("="):
            ws.cell(row=row, column=column).data_type = "s"


def csv_safe(value: Any) -> Any:
    """Quote text that a spreadsheet would run as a formula when it opens the CSV."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def csv_unquote(text: str) -> str:
    if text.startswith("'") and text[1:2] in FORMULA_START and not _is_number(text[1:]):
        return text[1:]
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def format_for(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(_("Use a file name ending in .xlsx or .csv."))
    return suffix[1:]
