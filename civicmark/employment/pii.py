"""Residents' ID numbers: checked, encrypted at rest, found again by a keyed hash, shown masked,
and kept out of every log line.

The 18-character resident identity number (GB 11643) carries the birth date (characters 7-14),
the sex (the 17th digit: odd for men) and a check character computed from the other 17."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
ID_PATTERN = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")


def check_character(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    """The ID number as stored: 18 characters, an upper-case X; or ApplicationError saying why
    not (the message never repeats the number)."""
    value = (raw or "").strip().upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        raise ApplicationError(_("An ID number has 17 digits and a final digit or X."))
    if check_character(value[:17]) != value[17]:
        raise ApplicationError(_("The ID number's check character is wrong: a digit is mistyped."))
    try:
        birth_date(value)
    except ValueError:
        raise ApplicationError(_("The ID number holds no valid birth date.")) from None
    return value


def birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def sex(value: str) -> str:
    return "M" if int(value[16]) % 2 else "F"


def mask(value: str) -> str:
    """Shown by default and in every export and notice: the first six and the last four."""
    if not value:
        return ""
    return value[:6] + "*" * 8 + value[-4:]


def mask_name(name: str) -> str:
    """Public notices: the second character hidden (张*, 欧*华)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


@cache
def _keys(secret: str) -> tuple[Fernet, bytes]:
    # Two keys from one secret, each for one purpose: encryption and the de-duplication hash.
    enc = hashlib.sha256(b"civicmark-pii-encrypt:" + secret.encode()).digest()
    mac = hashlib.sha256(b"civicmark-pii-hash:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(enc)), mac


def encrypt(value: str, secret: str | None = None) -> str:
    return _keys(secret or settings.PII_KEY)[0].encrypt(value.encode()).decode()


def decrypt(token: str, secret: str | None = None) -> str:
    try:
        return _keys(secret or settings.PII_KEY)[0].decrypt(token.encode()).decode()
    except InvalidToken:
        raise ApplicationError(_("This ID number cannot be read with the current key.")) from None


def readable(token: str, secret: str) -> str | None:
    """The number a stored token holds, if `secret` is the key it was encrypted under."""
    try:
        return _keys(secret)[0].decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def keyed_hash(value: str, secret: str | None = None) -> str:
    """Equal numbers give equal hashes, and no one without the key can test a guess."""
    return hmac.new(
        _keys(secret or settings.PII_KEY)[1], value.encode(), hashlib.sha256
    ).hexdigest()


def scrub(text: str) -> str:
    return ID_PATTERN.sub(lambda m: mask(m.group(0)), text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, int | float | type(None)):
        return value  # numbers keep their %d/%f formatting
    return scrub(value if isinstance(value, str) else str(value))


class ScrubbingFormatter(logging.Formatter):
    """The last line of defence: tracebacks and anything formatted late are masked too."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


_installed = False


def scrub_logs() -> None:
    """Every log record, from any library, has ID numbers masked in its message and arguments."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrub_value(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters reuse exc_text when it is set: the traceback is masked once, here.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
