"""How often survey codes may be tried on the public answer page (ADR 9).

A code is 40 random bits after its draw's tag, so guessing one is hopeless unless guesses are
free. They are limited where an attack aims, never by address (one address may be a whole
estate's Wi-Fi, and an attacker has many):

- per code: refusals of one real code (used, replaced, survey closed);
- per community's survey (per draw, known from the tag that starts its codes): every failed try
  that claims that draw, wrong codes included. Past the limit no code of that draw is checked
  until the window ends, a valid one included, or the limit would answer the very question it
  guards; the page says why and how long;
- codes that claim no draw (no tag, an unknown tag, or a draw made before codes had tags) share
  one more count, so that they cannot be tried for free either.

A try that opens or answers the questionnaire costs nothing. The counts live in Django's cache,
which every worker shares when REDIS_URL is set; a cache key holds a keyed hash of a code, never
the code, and nothing records when a code was used."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from civicmark.surveys.models import TAG_LENGTH, Draw

CODE_LENGTH = TAG_LENGTH + 8
UNKNOWN = "survey-tries:unknown"


# Letters that codes never use, read as the digits they are mistaken for: a typing slip is not
# a failed try.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise(code: str) -> str:
    """What a resident types: any case, with spaces or dashes, O for 0, I or L for 1. Anything
    but ASCII letters and digits is dropped (a NUL would even stop PostgreSQL's query), and
    nothing longer than a code is read."""
    kept = "".join(ch for ch in (code or "")[:64].upper() if ch.isascii() and ch.isalnum())
    return kept.translate(_LOOKALIKES)[:CODE_LENGTH]


def spaced(code: str) -> str:
    """A code as printed on a door card, in groups of four (typed back, the spaces go)."""
    return " ".join(code[n : n + 4] for n in range(0, len(code), 4))


@dataclass(frozen=True)
class Wait:
    message: str
    seconds: int


def _window() -> int:
    return int(settings.SURVEY_CODE_WINDOW_SECONDS)


def _code_key(code: str) -> str:
    return "survey-tries:code:" + salted_hmac("survey-code-tries", code).hexdigest()[:32]


def _claim_key(code: str) -> str:
    """The count a try belongs to: the draw its tag names, or the one for codes of no draw."""
    if len(code) != CODE_LENGTH:
        return UNKNOWN
    draw = Draw.objects.filter(tag=code[:TAG_LENGTH]).values_list("pk", flat=True).first()
    return f"survey-tries:draw:{draw}" if draw else UNKNOWN


def _minutes() -> int:
    return math.ceil(_window() / 60)


OPENED_SALT = "civicmark.surveys.opened"
OPENED_MAX_AGE = 4 * 3600  # a questionnaire left open on a phone for an afternoon


def opened(code: str) -> str:
    """A signed note, put in the questionnaire's form, that this code opened it."""
    return signing.dumps(code, salt=OPENED_SALT)


def _was_opened(code: str, note: str) -> bool:
    try:
        return bool(note) and signing.loads(note, salt=OPENED_SALT, max_age=OPENED_MAX_AGE) == code
    except signing.BadSignature:
        return False


def wait(code: str, note: str = "") -> Wait | None:
    """Whether this code may be checked now; if not, what to tell the person and for how long.
    A form sent back with the note that its code opened it (before a community's limit was
    reached) passes that limit: only the real code could have got the note, so it lets no
    guess through, and a resident half-way through the questionnaire is not turned away."""
    claim = _claim_key(code)
    counts = cache.get_many([claim, _code_key(code)])
    minutes = _minutes()
    if _was_opened(code, note):
        counts.pop(claim, None)
    if claim == UNKNOWN and counts.get(claim, 0) >= settings.SURVEY_UNKNOWN_FAILURES:
        message = _(
            "Too many codes that belong to no survey have been tried. Codes like this one are "
            "not checked for a while: wait %(minutes)d minutes, then type the code on your door "
            "card again."
        )
    elif claim != UNKNOWN and counts.get(claim, 0) >= settings.SURVEY_COMMUNITY_FAILURES:
        message = _(
            "Too many wrong codes have been tried for this survey in your community. To protect "
            "it, its codes are not checked for a while: wait %(minutes)d minutes, then type the "
            "code on your door card again."
        )
    elif counts.get(_code_key(code), 0) >= settings.SURVEY_CODE_FAILURES:
        message = _(
            "This code has been tried too many times. Wait %(minutes)d minutes before trying it "
            "again."
        )
    else:
        return None
    return Wait(message % {"minutes": minutes}, _window())


def _count(key: str) -> None:
    """One more in a fixed window that starts with the first try. `incr` is atomic in Redis; a
    key that expires between `add` and `incr` starts again at one."""
    cache.add(key, 0, _window())
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, _window())


def failed(code: str, *, real: bool) -> None:
    """A try that neither opened nor answered the questionnaire; `real` when the code exists
    (a wrong code is counted against its claim only: nobody tries the same wrong code twice)."""
    _count(_claim_key(code))
    if real:
        _count(_code_key(code))
