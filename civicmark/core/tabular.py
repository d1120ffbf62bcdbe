"""Reading and writing the simple tables that officials exchange: .xlsx and .csv.

A table is a header row and data rows. Headers may be written in English or Chinese; each
importer gives its columns as `Column(key, aliases)`. Row numbers are the ones a clerk sees in
Excel (the header is row 1), so that every error can point at its place.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from civicmark.core import parsing
from civicmark.core.errors import ImportRefused, PlaceError
from civicmark.core.names import sheet_cell, sheet_title


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...] = ()
    required: bool = True
    # The longest text the column's field holds (SQLite would store more, PostgreSQL refuse).
    max_length: int | None = None

    def names(self) -> set[str]:
        return {_norm(self.key), *(_norm(a) for a in self.aliases)}


def limit(model: Any, field: str) -> int | None:
    """The max_length of a model's text field, for `Column(max_length=...)`."""
    return model._meta.get_field(field).max_length  # type: ignore[no-any-return]


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
        return None, _csv_rows(text)
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


def _csv_rows(text: str) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text)):
            _check_size(len(rows) + 1, len(row), None)
            rows.append([csv_unquote(_cell_text(c)) for c in row])
    except csv.Error as exc:  # a field past the csv module's limit, a stray NUL
        raise ImportRefused(
            errors=[PlaceError(_("The file is not readable CSV: %s") % exc, row=len(rows) + 1)]
        ) from exc
    return rows


def _check_size(rows: int, columns: int, sheet: str | None) -> None:
    """Refuse a table past the import limits (settings IMPORT_MAX_ROWS, IMPORT_MAX_COLUMNS)."""
    if rows > settings.IMPORT_MAX_ROWS:
        raise ImportRefused(
            errors=[
                PlaceError(
                    _("The table has more than %d rows: split it into several files.")
                    % settings.IMPORT_MAX_ROWS,
                    sheet=sheet,
                )
            ]
        )
    if columns > settings.IMPORT_MAX_COLUMNS:
        raise ImportRefused(
            errors=[
                PlaceError(
                    _("The table has more than %d columns.") % settings.IMPORT_MAX_COLUMNS,
                    sheet=sheet,
                )
            ]
        )


def _unreadable(exc: BaseException) -> ImportRefused:
    reason = str(exc).strip() or type(exc).__name__
    return ImportRefused(
        errors=[PlaceError(_("The file is not a readable .xlsx workbook: %s") % reason[:200])]
    )


# `<row ` (or `<x:row ` with a namespace prefix) opens each row of a sheet's XML.
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_DIMENSION = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref=\"[A-Z]+[0-9]+:([A-Z]+)([0-9]+)\""
)


def measure_workbook(data: bytes) -> None:
    """Refuse a workbook too large to parse before openpyxl sees it: its unpacked size, and each
    sheet's rows (counted by streaming its XML, stopping at the limit) and declared columns.

    The count runs at zlib's speed, a small fraction of openpyxl's parse, so that a 47 KB file
    that unpacks to 100,000 rows is refused in a fraction of a second instead of holding a
    worker for 20 s."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable(exc) from exc
    # The sizes a zip declares bound what zipfile will ever unpack from it.
    if sum(m.file_size for m in members) > settings.IMPORT_MAX_UNCOMPRESSED:
        raise ImportRefused(
            errors=[
                PlaceError(
                    _("The workbook unpacks to more than %d MB.")
                    % (settings.IMPORT_MAX_UNCOMPRESSED // 2**20)
                )
            ]
        )
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            try:
                _measure_sheet(archive, member)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise _unreadable(exc) from exc


def _measure_sheet(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    rows = 0
    tail = b""
    first = True
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            block = tail + chunk
            if first:
                declared = _DIMENSION.search(block[:4096])
                if declared:
                    _check_size(int(declared[2]), _column_number(declared[1].decode()), None)
                first = False
            # Up to the last "<": no tag holds one, so every tag that starts before it ends
            # before it, and a tag cut at the chunk's end is counted with the next chunk.
            cut = max(block.rfind(b"<"), 0)
            rows += len(_ROW_TAG.findall(block, 0, cut))
            tail = block[cut:]
            _check_size(rows, 0, None)
    rows += len(_ROW_TAG.findall(tail))
    _check_size(rows, 0, None)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters[:4]:
        number = number * 26 + ord(letter) - 64
    return number


def read_workbook(data: bytes) -> dict[str, list[list[str]]]:
    """Every sheet of an .xlsx workbook as rows of cell text (workbooks saved by Excel, WPS or
    LibreOffice alike: only cell values are read, never formulas or styles).

    The workbook is measured first (`measure_workbook`); a file that is not a workbook, or
    whose XML is malformed anywhere, is refused with a message, never a server error."""
    measure_workbook(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read a hostile file is a refusal
        raise _unreadable(exc) from exc
    try:
        sheets: dict[str, list[list[str]]] = {}
        for ws in book.worksheets:
            rows: list[list[str]] = []
            for row in ws.iter_rows(values_only=True):
                _check_size(len(rows) + 1, len(row), ws.title)
                rows.append([_cell_text(c) for c in row])
            sheets[ws.title] = rows
        return sheets
    except ImportRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed sheet XML, a bad shared string
        raise _unreadable(exc) from exc
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
    limits = {c.key: c.max_length for c in columns if c.max_length and c.key in positions}
    for number, values in enumerate(raw[1:], start=2):
        if not any(values):
            continue
        row = {key: (values[pos] if pos < len(values) else "") for key, pos in positions.items()}
        for key, value in row.items():
            # A NUL byte is no text anyone typed, and PostgreSQL refuses to store it (an HTTP
            # 500 there, silently kept on SQLite): the cell is refused where it stands.
            if "\x00" in value:
                errors.append(
                    PlaceError(
                        _("The cell holds a NUL character."),
                        row=number,
                        column=key,
                        sheet=sheet_name,
                    )
                )
        for key, limit in limits.items():
            too_long = parsing.text_too_long(row[key], limit)
            if too_long:
                errors.append(PlaceError(too_long, row=number, column=key, sheet=sheet_name))
        table.rows.append((number, row))
    if errors:
        raise ImportRefused(errors=errors)
    return table


def parse_int(text: str, *, minimum: int = 0, maximum: int = parsing.INT_MAX) -> int | None:
    """Return None for an empty cell; raise ValueError with a clerk's sentence otherwise
    (the one strict reader, civicmark.core.parsing)."""
    return parsing.parse_int(text, min_value=minimum, max_value=maximum)


def parse_decimal(text: str, *, places: int = 2, max_digits: int = 10) -> Decimal | None:
    """A quantity of at most `max_digits` digits with `places` decimals (the profile's areas)."""
    return parsing.parse_decimal(text, places=places, max_digits=max_digits)


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
    ws = book.create_sheet(sheet_title(sheet))  # a community's name may hold "/"
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
    value = sheet_cell(value)
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
    values = [sheet_cell(v) for v in values]
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
