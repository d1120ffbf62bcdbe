"""The figures the Labour Bureau's items need, per community and period: each a numerator and a
denominator computed by the database, and a de-identified drill-down of the same rows (the tests
hold the counts equal to the drill-downs on both databases). The assessor still gives the points."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from civicmark.divisions.models import Division
from civicmark.employment import pii, rules
from civicmark.employment.models import (
    WORKING,
    Referral,
    ReferralState,
    Resident,
    Status,
    StatusPeriod,
    Vacancy,
    ZeroEmploymentCase,
)


@dataclass
class Indicator:
    key: str
    label: Any
    numerator: QuerySet[Any]
    denominator: QuerySet[Any] | None
    kind: str  # "resident", "case", "referral", "vacancy"

    def counts(self) -> tuple[int, int | None]:
        if self.kind == "mismatch":
            run = self.numerator.first()
            return (run.mismatches if run else 0), None  # a count, not a share
        return self.numerator.count(), (
            self.denominator.count() if self.denominator is not None else None
        )

    def rate(self) -> float | None:
        n, d = self.counts()
        return round(100 * n / d, 1) if d else None

    def rows(self) -> list[dict[str, str]]:
        """The numerator's rows, de-identified: no name, no ID number, no address."""
        if self.kind == "resident":
            return [
                {"who": pii.mask_name(r.name), "id": r.masked_id, "ref": str(r.public_id)[:8]}
                for r in self.numerator.order_by("pk")
            ]
        if self.kind == "mismatch":
            run = self.numerator.first()
            return [
                {"who": d["who"], "id": d["id"], "ref": d["kind"]}
                for d in (run.details if run else [])
            ]
        if self.kind == "follow_up":
            return [
                {
                    "who": pii.mask_name(f.referral.resident.name),
                    "id": f.referral.resident.masked_id,
                    "ref": str(f.done_on),
                }
                for f in self.numerator.select_related("referral__resident").order_by("pk")
            ]
        if self.kind == "case":
            return [
                {
                    "who": str(c.public_id)[:8],
                    "id": f"{c.recognised_on} → {c.deadline}",
                    "ref": str(c.closed_on or ""),
                }
                for c in self.numerator.order_by("pk")
            ]
        if self.kind == "referral":
            return [
                {
                    "who": pii.mask_name(r.resident.name),
                    "id": r.vacancy.title,
                    "ref": r.get_state_display(),
                }
                for r in self.numerator.select_related("resident", "vacancy").order_by("pk")
            ]
        return [
            {"who": v.employer.name, "id": v.title, "ref": str(v.published_on)}
            for v in self.numerator.select_related("employer").order_by("pk")
        ]


def _status_during(status: Any, start: dt.date, end: dt.date) -> Exists:
    statuses = [status] if isinstance(status, str) else list(status)
    return Exists(
        StatusPeriod.objects.filter(
            resident=OuterRef("pk"), status__in=statuses, start__lte=end
        ).filter(Q(end__isnull=True) | Q(end__gte=start))
    )


def _status_on(status: Any, day: dt.date) -> Exists:
    return _status_during(status, day, day)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _aged(day: dt.date, ages: dict[str, int]) -> Q:
    """Residents at least ages[sex] years old on `day` and not yet at retirement age, in the
    database (the retirement rule turned into a birth date, `rules.latest_retired_birth`)."""
    q = Q(pk__in=[])
    for sex in ("M", "F"):
        q |= Q(
            sex=sex,
            birth_date__lte=_years_before(day, ages[sex]),
            birth_date__gt=rules.latest_retired_birth(sex, day),
        )
    return q


def working_age_q(day: dt.date) -> Q:
    return _aged(day, {"M": rules.WORKING_AGE_FROM, "F": rules.WORKING_AGE_FROM})


def q_4050(day: dt.date) -> Q:
    return _aged(day, rules.AGE_4050)


def for_community(community: Division, start: dt.date, end: dt.date) -> list[Indicator]:
    residents = Resident.objects.filter(household__community__path__startswith=community.path)
    registered = residents.filter(_status_during(Status.REGISTERED_UNEMPLOYED, start, end))
    reemployed = registered.filter(_status_on(WORKING, end))
    registered_4050 = registered.filter(q_4050(end))
    cases = ZeroEmploymentCase.objects.filter(household__community__path__startswith=community.path)
    recognised = cases.filter(recognised_on__lte=end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=start)
    )
    cleared = recognised.filter(closed_on__isnull=False, closed_on__lte=end)
    referrals = Referral.objects.filter(
        resident__household__community__path__startswith=community.path,
        created_on__range=(start, end),
    )
    hires = Referral.objects.filter(
        resident__household__community__path__startswith=community.path,
        state=ReferralState.HIRED,
        hired_on__range=(start, end),
    )
    working_age = residents.filter(working_age_q(end), able_to_work=True)
    long_term = registered.filter(
        Exists(
            StatusPeriod.objects.filter(
                resident=OuterRef("pk"),
                status=Status.REGISTERED_UNEMPLOYED,
                start__lte=_years_before(end, 1),
            ).filter(Q(end__isnull=True) | Q(end__gte=end))
        )
    )
    from django.conf import settings

    from civicmark.employment.models import FollowUp, Reconciliation

    last_check = max(settings.CIVICMARK_FOLLOW_UP_MONTHS)
    checked = FollowUp.objects.filter(
        referral__resident__household__community__path__startswith=community.path,
        months=last_check,
        done_on__range=(start, end),
    )
    latest_run = Reconciliation.objects.filter(
        community__path__startswith=community.path, on__range=(start, end)
    ).order_by("-on", "-id")[:1]
    return [
        Indicator(
            "reemployed",
            _("Registered unemployed back in work"),
            reemployed,
            registered,
            "resident",
        ),
        Indicator(
            "reemployed_4050",
            _("4050 residents back in work"),
            reemployed.filter(q_4050(end)),
            registered_4050,
            "resident",
        ),
        Indicator(
            "zero_cleared_on_time",
            _("Zero-employment households cleared on time"),
            cleared.filter(closed_on__lte=models_deadline()),
            recognised,
            "case",
        ),
        Indicator(
            "zero_open",
            _("Zero-employment households still open"),
            recognised.filter(Q(closed_on__isnull=True) | Q(closed_on__gt=end)),
            recognised,
            "case",
        ),
        Indicator(
            "zero_overdue",
            _("Zero-employment households past their deadline"),
            recognised.filter(
                Q(closed_on__isnull=True, deadline__lt=end) | Q(closed_on__gt=models_deadline())
            ),
            recognised,
            "case",
        ),
        Indicator(
            "long_term",
            _("Unemployed for a year or more"),
            long_term,
            registered,
            "resident",
        ),
        Indicator("referrals", _("Referrals made"), referrals, None, "referral"),
        Indicator("hires", _("Hires from referrals"), hires, referrals, "referral"),
        Indicator(
            "vacancies",
            _("Vacancies published"),
            Vacancy.objects.filter(
                community__path__startswith=community.path, published_on__range=(start, end)
            ),
            None,
            "vacancy",
        ),
        Indicator(
            "ledger_complete",
            _("Working-age residents with a current status"),
            working_age.filter(_status_on(set(Status.values), end)),
            working_age,
            "resident",
        ),
        Indicator(
            "retention",
            _("Still in the job at the last follow-up"),
            checked.filter(still_employed=True),
            checked,
            "follow_up",
        ),
        Indicator(
            "mismatches",
            _("Differences from the official system (latest comparison)"),
            latest_run,
            None,
            "mismatch",
        ),
    ]


def models_deadline() -> Any:
    from django.db.models import F

    return F("deadline")
