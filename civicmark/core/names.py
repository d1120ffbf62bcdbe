"""Names made safe for wherever they go: sheet titles, download file names, PDFs, headers.

A community may be named "文昌社区(东/西片)", a person may paste a right-to-left override
(U+202E) or a line break into a name. Stored as typed, each name passes through one of these on
its way out, so that no name breaks a workbook, a header or a PDF, or disguises a file's type.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# openpyxl (and Excel) refuse these in a sheet title, and titles past 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
SHEET_TITLE_MAX = 31
# Bidirectional embeddings, overrides and isolates (a name "txt.exe" shown as "exe.txt").
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FILE_NAME_MAX = 120


def plain_text(text: object, *, keep_lines: bool = False) -> str:
    """Text without control characters (but line breaks and tabs when `keep_lines`) or bidi
    controls: what a PDF line, a header or a file name may carry."""
    keep = "\n\t" if keep_lines else ""
    cleaned = "".join(
        ch
        for ch in _BIDI.sub("", str(text))
        if ch in keep or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )
    return cleaned


# What a worksheet cell refuses (openpyxl: control characters but tab and line breaks) and bidi
# controls, which would show a name reversed: one search per text cell keeps exports fast.
_UNSAFE_IN_CELL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def sheet_cell(value: object) -> object:
    """A value a worksheet cell takes and shows as it reads: text without control or bidi
    characters (tabs and line breaks kept); any other value as it is. A name stored with a
    control character in it made every sheet that lists it fail."""
    if isinstance(value, str) and _UNSAFE_IN_CELL.search(value):
        return plain_text(value, keep_lines=True)
    return value


def is_plain(text: str) -> bool:
    """A code or a name as people type it: no control characters (tabs and line breaks
    included) and no bidi controls, which are invisible on a page and show a name reversed."""
    return not _BIDI.search(text) and all(unicodedata.category(ch) != "Cc" for ch in text)


def sheet_title(name: object, *, default: str = "sheet") -> str:
    """A title openpyxl accepts: no \\ / ? * [ ] :, no control characters, 31 characters at
    most, not empty and not starting or ending with an apostrophe."""
    title = _SHEET_FORBIDDEN.sub("_", plain_text(name)).strip().strip("'")
    return title[:SHEET_TITLE_MAX].strip() or default


def file_name(name: object, *, default: str = "download") -> str:
    """A file name of one path segment: no folder separators, no "..", no control or bidi
    characters, no quotes, 120 characters at most."""
    cleaned = re.sub(r'[\\/:*?"<>|;]+', "_", plain_text(name)).strip().strip(".")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned[:FILE_NAME_MAX].strip() or default


def content_disposition(name: object, suffix: str) -> str:
    """The Content-Disposition of an attachment: an ASCII fallback and the UTF-8 name (RFC 6266),
    both of one safe segment."""
    full = f"{file_name(name)}.{file_name(suffix, default='bin')}"
    fallback = "".join(ch if ch.isascii() and ch.isprintable() else "_" for ch in full)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(full, safe='')}"
