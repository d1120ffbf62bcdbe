"""Every write of the employment station: one function each, checked, audited in the same
transaction. Audit events never carry an ID number, masked or not."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.divisions.models import Division, Level
from civicmark.employment import pii, rules
from civicmark.employment.models import (
    OPEN_REFERRAL,
    WORKING,
    Employer,
    ExitReason,
    Holiday,
    Household,
    Referral,
    ReferralState,
    ReferralStep,
    Resident,
    ServiceRecord,
    Status,
    StatusPeriod,
    Vacancy,
    VacancyState,
    ZeroEmploymentCase,
)

VACANCY_DAYS = 30
REMIND_DAYS = 3


def _keeper(actor: Any, community: Division) -> None:
    if not authz.can_keep_ledger(actor, community):
        raise NotAllowed(_("You do not keep the employment ledger of %s.") % community.name)


def household_add(*, actor: Any, community: Division, address: str) -> Household:
    _keeper(actor, community)
    if community.level != Level.COMMUNITY:
        raise ApplicationError(_("Households belong to a community."))
    address = address.strip()
    if not address:
        raise ApplicationError(_("Give the household's address (estate, building, door)."))
    with transaction.atomic():
        household, created = Household.objects.get_or_create(community=community, address=address)
        if not created:
            raise ApplicationError(_("%s is already in the ledger.") % address)
        audit.record(
            actor=actor,
            action="employment.household_added",
            object_type="household",
            object_ref=str(household.public_id),
            scope_path=community.path,
            summary=address,
        )
    return household


def resident_add(
    *,
    actor: Any,
    household: Household,
    name: str,
    id_number: str,
    phone: str = "",
    able_to_work: bool = True,
    disability: bool = False,
    subsistence: bool = False,
) -> Resident:
    """A working-age resident enters the ledger. Birth date and sex come from the ID number; the
    number itself is kept only encrypted, and the keyed hash refuses the same person twice."""
    community = household.community
    _keeper(actor, community)
    if not name.strip():
        raise ApplicationError(_("Give the resident's name."))
    number = pii.normalise(id_number)
    digest = pii.keyed_hash(number)
    if (disability or subsistence) and not authz.can_see_sensitive(actor):
        raise NotAllowed(_("Only people allowed to see sensitive flags may set them."))
    with transaction.atomic():
        if Resident.objects.filter(id_hash=digest).exists():
            raise ApplicationError(
                _("A resident with this ID number is already in a ledger (%s).") % pii.mask(number)
            )
        resident = Resident.objects.create(
            household=household,
            name=name.strip(),
            sex=pii.sex(number),
            birth_date=pii.birth_date(number),
            id_cipher=pii.encrypt(number),
            id_hash=digest,
            id_first6=number[:6],
            id_last4=number[-4:],
            phone=phone.strip(),
            able_to_work=able_to_work,
            disability=disability,
            subsistence=subsistence,
        )
        audit.record(
            actor=actor,
            action="employment.resident_added",
            object_type="resident",
            object_ref=str(resident.public_id),
            scope_path=community.path,
            summary=pii.mask_name(resident.name),
        )
    return resident


def id_reveal(*, actor: Any, resident: Resident, reason: str) -> str:
    """The full ID number, for someone allowed to see it, with a reason that goes in the audit
    log (the number does not)."""
    community = resident.household.community
    if not authz.can_reveal_id(actor, community):
        raise NotAllowed(_("You may not reveal ID numbers."))
    if len(reason.strip()) < 4:
        raise ApplicationError(_("Say why you need the full ID number."))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="employment.id_revealed",
            object_type="resident",
            object_ref=str(resident.public_id),
            scope_path=community.path,
            summary=reason.strip()[:200],
        )
    return pii.decrypt(resident.id_cipher)


# --- Status history -------------------------------------------------------------------------


def status_on(resident: Resident, day: dt.date) -> StatusPeriod | None:
    return (
        resident.periods.filter(start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gte=day))
        .first()
    )


def status_set(
    *,
    actor: Any,
    resident: Resident,
    status: str,
    start: dt.date,
    end: dt.date | None = None,
    registration_no: str = "",
    registration_date: dt.date | None = None,
    employer: str = "",
) -> StatusPeriod:
    """Record a status from `start` (to `end`, or while it lasts). A change of status closes the
    open period the day before; any other overlap is refused, so every past day keeps one status."""
    community = resident.household.community
    _keeper(actor, community)
    if status not in Status.values:
        raise ApplicationError(_("“%s” is not an employment status.") % status)
    if end is not None and end < start:
        raise ApplicationError(_("A period cannot end before it starts."))
    registration_no = registration_no.strip()
    if status == Status.REGISTERED_UNEMPLOYED and not (registration_no and registration_date):
        raise ApplicationError(
            _("Registered unemployed needs the official registration number and date.")
        )
    if (
        registration_date
        and registration_date > (end or start)
        and status == Status.REGISTERED_UNEMPLOYED
    ):
        raise ApplicationError(_("The registration date cannot be after the period."))
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=resident.pk).first()  # one writer a person
        periods = list(resident.periods.all())
        last = end or dt.date.max
        for p in periods:
            p_end = p.end or dt.date.max
            if p.start <= last and start <= p_end:
                if p.end is None and p.start < start and end is None:
                    continue  # the open period: closed below, the day before the new one
                raise ApplicationError(
                    _("That overlaps the %(status)s period from %(start)s; change that one first.")
                    % {"status": Status(p.status).label, "start": p.start}
                )
        for p in periods:
            if p.end is None and p.start < start and end is None:
                p.end = start - dt.timedelta(days=1)
                p.save(update_fields=["end"])
        period = StatusPeriod.objects.create(
            resident=resident,
            status=status,
            start=start,
            end=end,
            registration_no=registration_no if status == Status.REGISTERED_UNEMPLOYED else "",
            registration_date=registration_date if status == Status.REGISTERED_UNEMPLOYED else None,
            employer=employer.strip(),
        )
        audit.record(
            actor=actor,
            action="employment.status_set",
            object_type="resident",
            object_ref=str(resident.public_id),
            scope_path=community.path,
            summary=f"{status} {start}",
        )
        if status in WORKING:
            _close_zero_case(actor, resident.household, start, ExitReason.MEMBER_EMPLOYED)
    return period


# --- Zero-employment households -------------------------------------------------------------


def calendar_days() -> dict[dt.date, bool]:
    return dict(Holiday.objects.values_list("day", "is_working_day"))


def is_zero_employment(household: Household, day: dt.date) -> bool:
    """Every working-age member able to work (still living there, not a student) is registered
    unemployed on that day, and there is at least one such member."""
    members = [
        r
        for r in household.members.all()
        if r.able_to_work
        and (r.moved_away_on is None or r.moved_away_on > day)
        and rules.working_age(r.sex, r.birth_date, day)
    ]
    statuses = []
    for r in members:
        period = status_on(r, day)
        if period is not None and period.status == Status.STUDENT:
            continue
        statuses.append(period.status if period else None)
    return bool(statuses) and all(s == Status.REGISTERED_UNEMPLOYED for s in statuses)


def zero_case_recognise(
    *, actor: Any, household: Household, day: dt.date, rule: str | None = None
) -> ZeroEmploymentCase:
    from django.conf import settings

    community = household.community
    _keeper(actor, community)
    if not is_zero_employment(household, day):
        raise ApplicationError(
            _(
                "%s is not a zero-employment household on that day: someone works, or someone able to work is not registered unemployed."
            )
            % household.address
        )
    parsed = rules.DeadlineRule.parse(rule or settings.CIVICMARK_ZERO_EMPLOYMENT_DEADLINE)
    with transaction.atomic():
        if household.zero_cases.filter(closed_on__isnull=True).exists():
            raise ApplicationError(_("%s already has an open case.") % household.address)
        case = ZeroEmploymentCase.objects.create(
            household=household,
            recognised_on=day,
            deadline=rules.deadline(day, parsed, calendar_days()),
            rule=str(parsed),
        )
        audit.record(
            actor=actor,
            action="employment.zero_case_recognised",
            object_type="zero_employment_case",
            object_ref=str(case.public_id),
            scope_path=community.path,
            summary=f"{household.address} {day} → {case.deadline}",
        )
    return case


def _close_zero_case(actor: Any, household: Household, day: dt.date, reason: str) -> None:
    case = household.zero_cases.filter(closed_on__isnull=True, recognised_on__lte=day).first()
    if case is None:
        return
    case.closed_on, case.exit_reason = day, reason
    case.save(update_fields=["closed_on", "exit_reason"])
    audit.record(
        actor=actor,
        action="employment.zero_case_cleared",
        object_type="zero_employment_case",
        object_ref=str(case.public_id),
        scope_path=household.community.path,
        summary=f"{household.address} {reason} {day}" + (" (late)" if case.overdue(day) else ""),
    )


REFUSALS_TO_EXIT = 3


def zero_case_close(
    *, actor: Any, case: ZeroEmploymentCase, day: dt.date, reason: str
) -> ZeroEmploymentCase:
    """Close a case by one of the allowed ways out, each checked against the ledger."""
    household = case.household
    _keeper(actor, household.community)
    if case.closed_on is not None:
        raise ApplicationError(_("This case is already closed."))
    if reason not in ExitReason.values:
        raise ApplicationError(_("“%s” is not an allowed way out.") % reason)
    if day < case.recognised_on:
        raise ApplicationError(_("A case cannot close before it was recognised."))
    members = list(household.members.all())
    if reason == ExitReason.MEMBER_EMPLOYED and not any(
        (p := status_on(m, day)) is not None and p.status in WORKING for m in members
    ):
        raise ApplicationError(_("No member of the household is recorded as working on that day."))
    if reason == ExitReason.REFUSALS:
        refused = Referral.objects.filter(
            resident__in=members, state=ReferralState.REFUSED, created_on__gte=case.recognised_on
        ).count()
        if refused < REFUSALS_TO_EXIT:
            raise ApplicationError(
                _("Only %(n)d refused referrals are recorded; %(need)d are needed.")
                % {"n": refused, "need": REFUSALS_TO_EXIT}
            )
    if reason == ExitReason.MOVED_AWAY and any(
        m.moved_away_on is None or m.moved_away_on > day for m in members
    ):
        raise ApplicationError(_("Record the day each member moved away first."))
    if reason == ExitReason.UNREACHABLE and (day - case.recognised_on).days < 90:
        raise ApplicationError(_("A household counts as unreachable after three months."))
    with transaction.atomic():
        _close_zero_case(actor, household, day, reason)
    case.refresh_from_db()
    return case


# --- Job bank -------------------------------------------------------------------------------


def employer_verify(*, actor: Any, name: str, credit_code: str, division: Division) -> Employer:
    _keeper(actor, division)
    code = rules.normalise_uscc(credit_code)
    if not name.strip():
        raise ApplicationError(_("Give the employer's registered name."))
    with transaction.atomic():
        employer, created = Employer.objects.get_or_create(
            credit_code=code,
            defaults={"name": name.strip(), "division": division, "verified_at": timezone.now()},
        )
        if created:
            audit.record(
                actor=actor,
                action="employment.employer_verified",
                object_type="employer",
                object_ref=str(employer.public_id),
                scope_path=division.path,
                summary=f"{employer.name} {code}",
            )
    return employer


def vacancy_file(*, actor: Any, employer: Employer, community: Division, **fields: Any) -> Vacancy:
    """A post is filed as a draft and sent for review; nothing is public before it is approved."""
    _keeper(actor, community)
    if employer.verified_at is None:
        raise ApplicationError(_("The employer's credit code has not been verified."))
    if not str(fields.get("title", "")).strip():
        raise ApplicationError(_("Give the post's title."))
    if int(fields.get("wage_max", 0)) < int(fields.get("wage_min", 0)):
        raise ApplicationError(_("The highest wage is below the lowest."))
    with transaction.atomic():
        vacancy = Vacancy.objects.create(
            employer=employer, community=community, state=VacancyState.PENDING, **fields
        )
        audit.record(
            actor=actor,
            action="employment.vacancy_filed",
            object_type="vacancy",
            object_ref=str(vacancy.public_id),
            scope_path=community.path,
            summary=f"{employer.name} {vacancy.title}",
        )
    return vacancy


def vacancy_review(
    *, actor: Any, vacancy: Vacancy, approve: bool, today: dt.date, note: str = ""
) -> Vacancy:
    if not authz.can_review_vacancy(actor, vacancy.community):
        raise NotAllowed(_("Posts are reviewed by the town, county or city office."))
    if vacancy.state != VacancyState.PENDING:
        raise ApplicationError(_("Only a post awaiting review can be approved or rejected."))
    if not approve and not note.strip():
        raise ApplicationError(_("Say why the post is rejected."))
    with transaction.atomic():
        if approve:
            vacancy.state = VacancyState.PUBLISHED
            vacancy.published_on = today
            vacancy.expires_on = today + dt.timedelta(days=VACANCY_DAYS)
        else:
            vacancy.state = VacancyState.REJECTED
        vacancy.save()
        audit.record(
            actor=actor,
            action="employment.vacancy_published" if approve else "employment.vacancy_rejected",
            object_type="vacancy",
            object_ref=str(vacancy.public_id),
            scope_path=vacancy.community.path,
            summary=f"{vacancy.title} {note}".strip(),
        )
    return vacancy


def vacancy_extend(
    *, actor: Any, vacancy: Vacancy, today: dt.date, days: int = VACANCY_DAYS
) -> Vacancy:
    _keeper(actor, vacancy.community)
    if vacancy.state != VacancyState.PUBLISHED:
        raise ApplicationError(_("Only a published post can be extended."))
    if not 1 <= days <= 90:
        raise ApplicationError(_("Extend by 1 to 90 days."))
    with transaction.atomic():
        vacancy.expires_on = max(vacancy.expires_on or today, today) + dt.timedelta(days=days)
        vacancy.reminded_on = None
        vacancy.save(update_fields=["expires_on", "reminded_on"])
        audit.record(
            actor=actor,
            action="employment.vacancy_extended",
            object_type="vacancy",
            object_ref=str(vacancy.public_id),
            scope_path=vacancy.community.path,
            summary=f"{vacancy.title} → {vacancy.expires_on}",
        )
    return vacancy


def vacancies_due(today: dt.date) -> list[Vacancy]:
    """Published posts that expire within REMIND_DAYS and have not been reminded: the station is
    told on its job-bank page and by `civicmark vacancy-reminders`."""
    due = list(
        Vacancy.objects.filter(
            state=VacancyState.PUBLISHED,
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=REMIND_DAYS),
            reminded_on__isnull=True,
        ).select_related("community", "employer")
    )
    Vacancy.objects.filter(pk__in=[v.pk for v in due]).update(reminded_on=today)
    return due


def open_vacancies(division: Division, today: dt.date) -> Any:
    """What the public page shows: published, not expired, in this community or town."""
    return (
        Vacancy.objects.filter(
            state=VacancyState.PUBLISHED,
            expires_on__gte=today,
            community__path__startswith=division.path,
        )
        .select_related("employer", "community")
        .order_by("-published_on", "title")
    )


# --- Referrals ------------------------------------------------------------------------------


def referral_create(
    *, actor: Any, resident: Resident, vacancy: Vacancy, today: dt.date
) -> Referral:
    _keeper(actor, resident.household.community)
    if not vacancy.is_open(today):
        raise ApplicationError(_("That post is not open."))
    with transaction.atomic():
        if Referral.objects.filter(resident=resident, vacancy=vacancy).exists():
            raise ApplicationError(_("This person was already referred to that post."))
        referral = Referral.objects.create(resident=resident, vacancy=vacancy, created_on=today)
        ServiceRecord.objects.create(
            resident=resident, kind="referral", on=today, note=vacancy.title[:200]
        )
        audit.record(
            actor=actor,
            action="employment.referral_created",
            object_type="referral",
            object_ref=str(referral.public_id),
            scope_path=resident.household.community.path,
            summary=f"{pii.mask_name(resident.name)} → {vacancy.title}",
        )
    return referral


def referral_move(
    *, actor: Any, referral: Referral, to: str, day: dt.date, reason: str = ""
) -> Referral:
    """Move a referral one step. A hire records the job in the ledger, clears a zero-employment
    case of the household and closes the person's other open referrals."""
    resident = referral.resident
    _keeper(actor, resident.household.community)
    rules.check_move(referral.state, to, reason)
    if day < referral.created_on:
        raise ApplicationError(_("A step cannot come before the referral."))
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.state != referral.state:
            raise ApplicationError(_("Someone moved this referral meanwhile; reload it."))
        _step(actor, locked, to, day, reason)
        if to == ReferralState.HIRED:
            for other in (
                Referral.objects.select_for_update()
                .filter(resident=resident, state__in=OPEN_REFERRAL)
                .exclude(pk=locked.pk)
            ):
                _step(actor, other, ReferralState.CLOSED, day, _("hired elsewhere"))
            status_set(
                actor=actor,
                resident=resident,
                status=Status.EMPLOYED,
                start=day,
                employer=locked.vacancy.employer.name,
            )
        audit.record(
            actor=actor,
            action="employment.referral_moved",
            object_type="referral",
            object_ref=str(locked.public_id),
            scope_path=resident.household.community.path,
            summary=f"{referral.state} → {to}",
        )
    return locked


def _step(actor: Any, referral: Referral, to: str, day: dt.date, reason: str) -> None:
    ReferralStep.objects.create(
        referral=referral,
        from_state=referral.state,
        to_state=to,
        on=day,
        reason=reason.strip(),
        by=actor if getattr(actor, "pk", None) else None,
    )
    referral.state = to
    referral.reason = reason.strip()
    if to == ReferralState.HIRED:
        referral.hired_on = day
    referral.save(update_fields=["state", "reason", "hired_on"])


def service_record(
    *, actor: Any, resident: Resident, kind: str, on: dt.date, note: str = ""
) -> ServiceRecord:
    _keeper(actor, resident.household.community)
    from civicmark.employment.models import ServiceKind

    if kind not in ServiceKind.values:
        raise ApplicationError(_("“%s” is not a kind of service.") % kind)
    with transaction.atomic():
        record = ServiceRecord.objects.create(
            resident=resident, kind=kind, on=on, note=note.strip()
        )
        audit.record(
            actor=actor,
            action="employment.service_recorded",
            object_type="resident",
            object_ref=str(resident.public_id),
            scope_path=resident.household.community.path,
            summary=f"{kind} {on}",
        )
    return record
