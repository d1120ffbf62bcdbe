"""The one strict reader of numbers, dates and ids typed by people: forms, imports and commands.

Python's own readers accept far more than a clerk means: `Decimal` takes "NaN", "sNaN",
"Infinity" and "1E+200000" (whose arithmetic costs seconds), `int` and `str.isdigit` take "²"
and full-width digits, `date.fromisoformat` takes year 1, and an integer of 24 digits overflows
the database. Everything typed goes through here instead, and a refusal is a `ValueError`
(`ParseError`) whose message names what is wrong, so that every interface reports it the same
way. Bounds default to what every database we run on can store.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

# Digits and exponent are bounded before `Decimal` ever sees the text.
MAX_DIGITS = 20
MAX_EXPONENT = 20
# PostgreSQL's `integer` (Django's IntegerField and PositiveIntegerField everywhere).
INT_MAX = 2_147_483_647
# A primary key or other id typed or posted: PostgreSQL's `bigint`.
ID_MAX = 9_223_372_036_854_775_807
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)

_NUMBER = re.compile(
    r"[+-]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?", re.ASCII
)
# The common case, read without the checks below: a few digits, perhaps a point and decimals.
_PLAIN = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,6})?", re.ASCII)
_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(10)}
_DATE = re.compile(r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})", re.ASCII)
# Excel date cells come back as "2026-05-01 00:00:00".
_MIDNIGHT = re.compile(r"(?:[ T]00:00(?::00(?:\.0+)?)?)?")


class ParseError(ValueError):
    """Text that is not the number, date or id asked for; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean(text: Any) -> str:
    # Thousands separators as Excel shows them; spaces around (never inside) the number.
    return str(text).strip().replace(",", "")


# "1,5": a decimal comma, as many phones' keyboards (and half of Europe) write a point.
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,(?P<frac>[0-9]+)", re.ASCII)


def _points_text(text: Any, places: int) -> str:
    """Points are never thousands, so in a points box a comma is the decimal mark: "1,5" is 1.5.
    More decimals after the comma than the points have ("1,000") could be a thousand or one, so
    it is refused with the way to write it rather than guessed."""
    raw = str(text).strip()
    match = _DECIMAL_COMMA.fullmatch(raw)
    if match is None:
        if "," in raw:
            raise ParseError(_("“%s”: write the points with a point, as 1.5.") % _shown(text))
        return raw
    if len(match["frac"]) > places:
        raise ParseError(_("“%s”: write the points with a point, as 1.5.") % _shown(text))
    return raw.replace(",", ".")


def parse_decimal(
    text: Any,
    *,
    places: int = 2,
    max_digits: int | None = None,
    min_value: Decimal | int | None = 0,
    max_value: Decimal | int | None = None,
    exact: bool = False,
) -> Decimal | None:
    """A finite number of ASCII digits rounded to `places`, or None for an empty text.

    `max_digits` is the field's (digits before the point are at most `max_digits - places`);
    `min_value` defaults to 0 (no field here holds a negative quantity). `exact` refuses more
    decimal places than `places` instead of rounding (points: 29.999 is not 30), and reads a
    comma as the decimal mark ("1,5" is 1.5), since points are never written in thousands."""
    raw = _points_text(text, places) if exact else _clean(text)
    if raw == "":
        return None
    value = _number(raw, text, whole=False)
    whole_digits = max_digits - places if max_digits is not None else MAX_DIGITS
    if value != 0 and value.adjusted() >= whole_digits:
        raise ParseError(
            _("“%(value)s” is too large: at most %(digits)d digits before the point.")
            % {"value": _shown(text), "digits": whole_digits}
        )
    quantum = _QUANTUM.get(places) or Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if exact and rounded != value:
        raise ParseError(
            _("“%(value)s” has more than %(places)d decimal places.")
            % {"value": _shown(text), "places": places}
        )
    if not exact:  # exact values stay as typed ("28", not "28.0", in the audit trail)
        value = rounded
    _check_range(text, value, min_value, max_value)
    return value


def parse_int(
    text: Any, *, min_value: int | None = 0, max_value: int | None = INT_MAX
) -> int | None:
    """A whole number of ASCII digits within the field's range, or None for an empty text.
    "120.0" is 120 (Excel keeps every number as a float); "120.5" is refused."""
    raw = _clean(text)
    if raw == "":
        return None
    value = _number(raw, text, whole=True)
    if value != value.to_integral_value():
        raise ParseError(_("“%s” is not a whole number.") % _shown(text))
    number = int(value)
    _check_range(text, number, min_value, max_value)
    return number


def _number(raw: str, text: Any, *, whole: bool) -> Decimal:
    """`Decimal(raw)` once the text is known to be ASCII digits of bounded length and exponent
    (never NaN, Infinity, "²" or "1E+200000"). Messages are translated only when needed: a
    score sheet reads ten thousand numbers."""
    if _PLAIN.fullmatch(raw):
        return Decimal(raw)
    match = _NUMBER.fullmatch(raw)
    if match is None or not (match["int"] or match["frac"]):
        if any(ch.isdigit() and not ch.isascii() for ch in raw):
            raise ParseError(_("“%s”: write the digits as 0-9.") % _shown(text))
        if whole:
            raise ParseError(_("“%s” is not a whole number.") % _shown(text))
        raise ParseError(_("“%s” is not a number.") % _shown(text))
    exponent = match["exp"] or "0"
    digits = len(match["int"] or "") + len(match["frac"] or "")
    if digits > MAX_DIGITS or len(exponent) > 4 or abs(int(exponent)) > MAX_EXPONENT:
        raise ParseError(_("“%s” has too many digits.") % _shown(text))
    return Decimal(raw)


def _check_range(text: Any, value: Any, low: Any, high: Any) -> None:
    if low is not None and value < low:
        raise ParseError(
            _("%(value)s is below the minimum %(min)s.") % {"value": _shown(text), "min": low}
        )
    if high is not None and value > high:
        raise ParseError(
            _("%(value)s is above the maximum %(max)s.") % {"value": _shown(text), "max": high}
        )


def parse_date(
    text: Any, *, earliest: dt.date = DATE_MIN, latest: dt.date = DATE_MAX
) -> dt.date | None:
    """A date written YYYY-MM-DD (or with / or .) between 1900 and 2100, or None if empty."""
    if isinstance(text, dt.datetime):
        text = text.date()
    if isinstance(text, dt.date):
        value = text
    else:
        raw = str(text).strip()
        if raw == "":
            return None
        match = _DATE.match(raw)
        if match is None or not _MIDNIGHT.fullmatch(raw[match.end() :]):
            raise ParseError(_("“%s” is not a date: write it as YYYY-MM-DD.") % _shown(text))
        try:
            value = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise ParseError(_("“%s” is not a date of the calendar.") % _shown(text)) from None
    if not earliest <= value <= latest:
        raise ParseError(
            _("%(value)s is outside %(earliest)s to %(latest)s.")
            % {"value": value.isoformat(), "earliest": earliest, "latest": latest}
        )
    return value


def parse_year(text: Any) -> int | None:
    return parse_int(text, min_value=DATE_MIN.year, max_value=DATE_MAX.year)


def parse_id(text: Any) -> int | None:
    """A database id posted by a page (a hidden field, a checkbox): None unless it is one."""
    raw = str(text or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    number = int(raw)
    return number if 0 < number <= ID_MAX else None


def parse_ids(values: Any) -> list[int]:
    """The ids among posted values; anything else is left out (it can match no row)."""
    return [n for n in (parse_id(v) for v in values) if n is not None]


def _shown(text: Any) -> str:
    """What was typed, short enough to quote back in a message."""
    shown = str(text).strip()
    return shown if len(shown) <= 40 else shown[:40] + "…"


def text_too_long(value: str, limit: int | None) -> str | None:
    """The message for text longer than its field allows, or None when it fits."""
    if limit is not None and len(value) > limit:
        return _("This text has %(length)d characters; at most %(limit)d are allowed.") % {
            "length": len(value),
            "limit": limit,
        }
    return None
