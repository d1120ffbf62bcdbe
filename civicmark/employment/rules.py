"""Pure rules of the employment station: ages and target groups, deadlines, credit codes, the
referral state machine and the job match. No database here; the services feed them."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError
from civicmark.core.parsing import parse_id
from civicmark.core.workdays import is_working_day
from civicmark.employment.models import ReferralState as R

# Statutory retirement, as the gradual increase decided by the NPC Standing Committee in
# September 2024 sets it from 1 January 2025: men 60, rising one month for every four months of
# birth from January 1965 until 63 (born September 1976 and later); women workers 50, rising one
# month for every two months of birth from January 1975 until 55 (born November 1984 and later).
# Women in posts with the old 55 follow the men's pace to 58; the ledger does not record the
# post, so women are counted with the workers' ages, which community employment work concerns.
RETIREMENT = {"M": 60, "F": 50}  # the ages before the increase
REFORM_FIRST_BIRTH = {"M": (1965, 1), "F": (1975, 1)}  # the first cohort to retire later
REFORM_STEP = {"M": 4, "F": 2}  # months of birth for each month of delay
REFORM_MAX = {"M": 36, "F": 60}  # months: 63 and 55
WORKING_AGE_FROM = 16
AGE_4050 = {"M": 50, "F": 40}


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retirement_delay(sex: str, birth: dt.date) -> int:
    """Months by which the 2025 increase defers this person's retirement."""
    first_year, first_month = REFORM_FIRST_BIRTH[sex]
    k = (birth.year - first_year) * 12 + birth.month - first_month
    if k < 0:
        return 0
    return min(k // REFORM_STEP[sex] + 1, REFORM_MAX[sex])


def retirement_date(sex: str, birth: dt.date) -> dt.date:
    """The day this person reaches statutory retirement age (the month's last day when the
    birthday's day does not exist in that month)."""
    return _add_months(birth, 12 * RETIREMENT[sex] + retirement_delay(sex, birth))


def latest_retired_birth(sex: str, day: dt.date) -> dt.date:
    """The latest birth date of someone already at retirement age on `day`: a person is under it
    exactly when born after this date (retirement dates never go down as births go up), so the
    database can filter on the birth date. Found by bisection over the possible births."""
    low = _add_months(day, -12 * RETIREMENT[sex] - REFORM_MAX[sex] - 1)  # retired by `day`
    high = _add_months(day, -12 * RETIREMENT[sex] + 1)  # not retired on `day`
    lo, hi = low.toordinal(), high.toordinal()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if retirement_date(sex, dt.date.fromordinal(mid)) <= day:
            lo = mid
        else:
            hi = mid
    return dt.date.fromordinal(lo)


def working_age(sex: str, birth: dt.date, day: dt.date) -> bool:
    return age_on(birth, day) >= WORKING_AGE_FROM and day < retirement_date(sex, birth)


def is_4050(sex: str, birth: dt.date, day: dt.date) -> bool:
    """Women from 40 and men from 50, until retirement age."""
    return age_on(birth, day) >= AGE_4050[sex] and day < retirement_date(sex, birth)


# --- Deadlines ------------------------------------------------------------------------------

UNITS = ("working_days", "days", "months", "period_end")


@dataclass(frozen=True)
class DeadlineRule:
    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> DeadlineRule:
        """ "10 working_days", "30 days", "3 months" or "period_end" (the end of the quarter)."""
        parts = text.split()
        if parts == ["period_end"]:
            return cls(0, "period_end")
        # A thousand days or months at most: "²" or 10^23 would break the date arithmetic.
        amount = parse_id(parts[0]) if len(parts) == 2 else None
        if amount is not None and amount <= 1000 and parts[1] in UNITS[:3]:
            return cls(amount, parts[1])
        raise ApplicationError(
            _(
                "“%s” is not a deadline rule: write for example “10 working_days”, “30 days”, “3 months” or “period_end”."
            )
            % text
        )

    def __str__(self) -> str:
        return "period_end" if self.unit == "period_end" else f"{self.amount} {self.unit}"


def deadline(start: dt.date, rule: DeadlineRule, calendar_days: dict[dt.date, bool]) -> dt.date:
    """The last day to clear a case recognised on `start`. Working days are counted from the day
    after recognition: 10 working days from a Friday is the second Friday after it."""
    if rule.unit == "days":
        return start + dt.timedelta(days=rule.amount)
    if rule.unit == "months":
        month = start.month - 1 + rule.amount
        year, month = start.year + month // 12, month % 12 + 1
        return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    if rule.unit == "period_end":
        quarter_end_month = ((start.month - 1) // 3 + 1) * 3
        return dt.date(
            start.year, quarter_end_month, calendar.monthrange(start.year, quarter_end_month)[1]
        )
    day, left = start, rule.amount
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar_days):
            left -= 1
    return day


# --- Unified social credit code (GB 32100-2015) ---------------------------------------------

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def normalise_uscc(raw: str) -> str:
    value = (raw or "").strip().upper()
    if not re.fullmatch(f"[{USCC_CHARS}]{{18}}", value):
        raise ApplicationError(
            _(
                "A unified social credit code has 18 characters (digits and capital letters, no I, O, S, V or Z)."
            )
        )
    if uscc_check(value[:17]) != value[17]:
        raise ApplicationError(
            _("The credit code's check character is wrong: a character is mistyped.")
        )
    return value


# --- Referrals ------------------------------------------------------------------------------

MOVES: dict[str, set[str]] = {
    R.NEW: {R.CONTACTED, R.REFUSED},
    R.CONTACTED: {R.INTERVIEW, R.REFUSED, R.NO_SHOW},
    R.INTERVIEW: {R.HIRED, R.REFUSED, R.NO_SHOW},
    R.HIRED: set(),
    R.REFUSED: set(),
    R.NO_SHOW: set(),
    R.CLOSED: set(),
}
NEEDS_REASON = {R.REFUSED}


def check_move(current: str, target: str, reason: str) -> None:
    if target not in MOVES.get(current, set()):
        raise ApplicationError(
            _("A referral that is “%(current)s” cannot become “%(target)s”.")
            % {
                "current": R(current).label,
                "target": R(target).label if target in R.values else target,
            }
        )
    if target in NEEDS_REASON and not reason.strip():
        raise ApplicationError(_("Say why the offer was refused."))


# --- The job match --------------------------------------------------------------------------


@dataclass(frozen=True)
class Wish:
    category: str = ""
    hours: str = ""
    max_km: Decimal | None = None
    min_wage: int | None = None


@dataclass(frozen=True)
class Post:
    key: object
    category: str
    hours: str
    distance_km: Decimal
    wage_max: int


def match(wish: Wish, posts: Collection[Post]) -> list[tuple[object, int, list[str]]]:
    """Posts that pass every hard rule the person set (distance, lowest wage), best first, with
    the points of the soft rules (category, hours, nearness) and why."""
    found = []
    for post in posts:
        if wish.max_km is not None and post.distance_km > wish.max_km:
            continue
        if wish.min_wage is not None and post.wage_max < wish.min_wage:
            continue
        points, why = 0, []
        if wish.category and post.category == wish.category:
            points += 2
            why.append("category")
        if wish.hours and post.hours == wish.hours:
            points += 1
            why.append("hours")
        if post.distance_km <= 3:
            points += 1
            why.append("near")
        found.append((post.key, points, why))
    found.sort(key=lambda f: -f[1])
    return found
