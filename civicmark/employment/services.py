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
from civicmark.assessments import panels, sealing
from civicmark.assessments.access import score_refusal
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
from civicmark.employment.selectors import residents_for_user

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


def _new_resident(
    household: Household, name: str, number: str, phone: str = "", **flags: bool
) -> Resident:
    """A resident not yet saved: birth date and sex read from the (normalised) ID number, which
    is kept only encrypted, with its keyed hash and the digits shown when masked."""
    return Resident(
        household=household,
        name=name.strip(),
        sex=pii.sex(number),
        birth_date=pii.birth_date(number),
        id_cipher=pii.encrypt(number),
        id_hash=pii.keyed_hash(number),
        id_first6=number[:6],
        id_last4=number[-4:],
        phone=phone.strip(),
        **flags,
    )


def _already_registered(
    number: str, existing: Resident, visible: bool, asking_from: Division
) -> str:
    """The refusal of an ID number already in a ledger. One person is in one ledger across the
    installation (or he would count twice in the figures), so the number is refused wherever
    he is, and the refusal itself says that he is somewhere. It says no more than that outside
    the asker's scope: not the community, town or county, the household or the name (issue 14),
    only whom to ask, the employment office of the asker's own city. Within his scope he keeps
    that ledger, so it says where."""
    if visible:
        return _("%(id)s is already in the ledger of %(community)s, household %(address)s.") % {
            "id": pii.mask(number),
            "community": existing.household.community.name,
            "address": existing.household.address,
        }
    return _(
        "%(id)s is already registered in an employment ledger outside the communities you keep. "
        "If the person has moved here, ask the employment office of %(city)s to move the record."
    ) % {"id": pii.mask(number), "city": _city_of(asking_from).name}


def _city_of(division: Division) -> Division:
    """The city at the root of a division's path ("/<city>/<county>/.../")."""
    parts = division.path.strip("/").split("/")
    prefixes = ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]
    return Division.objects.filter(path__in=prefixes).order_by("path").first() or division


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
        existing = (
            Resident.objects.select_related("household__community").filter(id_hash=digest).first()
        )
        if existing is not None:
            visible = residents_for_user(actor).filter(pk=existing.pk).exists()
            raise ApplicationError(_already_registered(number, existing, visible, community))
        resident = _new_resident(
            household,
            name,
            number,
            phone,
            able_to_work=able_to_work,
            disability=disability,
            subsistence=subsistence,
        )
        resident.save()
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
    """The period covering that day, or None; read from the prefetched periods when the caller
    loaded them (a ledger page), else from the person's few rows."""
    return next((p for p in resident.periods.all() if p.covers(day)), None)


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


def employers_near(division: Division) -> Any:
    """The verified employers a community's station works with: those registered in its town
    (or, for a town, in the town itself)."""
    area = division.parent if division.level == Level.COMMUNITY and division.parent else division
    return Employer.objects.filter(verified_at__isnull=False, division__path__startswith=area.path)


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
    with transaction.atomic():
        Vacancy.objects.filter(pk__in=[v.pk for v in due]).update(reminded_on=today)
        if due:
            audit.record(
                actor=None,
                via="system",
                action="employment.vacancies_reminded",
                object_type="vacancy",
                summary=f"{len(due)} posts expire by {today + dt.timedelta(days=REMIND_DAYS)}",
            )
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
            follow_ups_schedule(locked)
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


# --- Follow-ups after a placement -----------------------------------------------------------


def _plus_months(day: dt.date, months: int) -> dt.date:
    return rules.deadline(day, rules.DeadlineRule(months, "months"), {})


def follow_ups_schedule(referral: Referral) -> None:
    """On a hire: one check per configured interval (1 and 3 months by default)."""
    from django.conf import settings

    from civicmark.employment.models import FollowUp

    assert referral.hired_on is not None
    FollowUp.objects.bulk_create(
        [
            FollowUp(referral=referral, months=m, due_on=_plus_months(referral.hired_on, m))
            for m in settings.CIVICMARK_FOLLOW_UP_MONTHS
        ],
        ignore_conflicts=True,
    )


def follow_up_record(*, actor: Any, follow_up: Any, day: dt.date, still_employed: bool) -> Any:
    resident = follow_up.referral.resident
    _keeper(actor, resident.household.community)
    if follow_up.done_on is not None:
        raise ApplicationError(_("This follow-up is already recorded."))
    if day < follow_up.referral.hired_on:
        raise ApplicationError(_("A follow-up cannot come before the hire."))
    with transaction.atomic():
        follow_up.done_on, follow_up.still_employed = day, still_employed
        follow_up.save(update_fields=["done_on", "still_employed"])
        audit.record(
            actor=actor,
            action="employment.follow_up",
            object_type="referral",
            object_ref=str(follow_up.referral.public_id),
            scope_path=resident.household.community.path,
            summary=f"{follow_up.months} {'still employed' if still_employed else 'left'} {day}",
        )
    return follow_up


# --- Job fairs ------------------------------------------------------------------------------


def fair_create(*, actor: Any, division: Division, title: str, held_on: dt.date) -> Any:
    from civicmark.employment.models import JobFair

    _keeper(actor, division)
    if not title.strip():
        raise ApplicationError(_("Give the fair a title."))
    with transaction.atomic():
        fair = JobFair.objects.create(division=division, title=title.strip(), held_on=held_on)
        audit.record(
            actor=actor,
            action="employment.fair_created",
            object_type="job_fair",
            object_ref=str(fair.public_id),
            scope_path=division.path,
            summary=f"{fair.title} {held_on}",
        )
    return fair


def fair_add_employer(*, actor: Any, fair: Any, employer: Employer, posts: int) -> None:
    from civicmark.employment.models import FairEmployer

    _keeper(actor, fair.division)
    if employer.verified_at is None:
        raise ApplicationError(_("The employer's credit code has not been verified."))
    if posts < 1:
        raise ApplicationError(_("An employer at a fair offers at least one post."))
    with transaction.atomic():
        FairEmployer.objects.update_or_create(
            fair=fair, employer=employer, defaults={"posts_offered": posts}
        )
        audit.record(
            actor=actor,
            action="employment.fair_employer",
            object_type="job_fair",
            object_ref=str(fair.public_id),
            scope_path=fair.division.path,
            summary=f"{employer.name} {posts}",
        )


def fair_check_in(*, actor: Any, fair: Any, resident: Resident, at: Any = None) -> None:
    from civicmark.employment.models import FairAttendance

    community = resident.household.community
    _keeper(actor, community)
    if not community.path.startswith(fair.division.path):
        raise ApplicationError(_("That resident does not live where the fair is held."))
    with transaction.atomic():
        _attendance, created = FairAttendance.objects.get_or_create(
            fair=fair, resident=resident, defaults={"checked_in_at": at or timezone.now()}
        )
        if not created:
            raise ApplicationError(_("%s has already checked in.") % pii.mask_name(resident.name))
        audit.record(
            actor=actor,
            action="employment.fair_check_in",
            object_type="job_fair",
            object_ref=str(fair.public_id),
            scope_path=community.path,
            summary=pii.mask_name(resident.name),
        )


FAIR_HIRE_DAYS = 30


def fair_figures(fair: Any, days: int = FAIR_HIRE_DAYS) -> dict[str, int]:
    """Employers, posts offered, people checked in, and those of them who started work within
    `days` of the fair (by the ledger)."""
    from django.db.models import Sum

    from civicmark.employment.models import FairAttendance, FairEmployer

    attendees = FairAttendance.objects.filter(fair=fair).values("resident")
    hired = (
        StatusPeriod.objects.filter(
            resident__in=attendees,
            status__in=list(WORKING),
            start__range=(fair.held_on, fair.held_on + dt.timedelta(days=days)),
        )
        .values("resident")
        .distinct()
        .count()
    )
    offered = FairEmployer.objects.filter(fair=fair)
    return {
        "employers": offered.count(),
        "posts": offered.aggregate(n=Sum("posts_offered"))["n"] or 0,
        "attendance": attendees.count(),
        "hired": hired,
    }


# --- Reconciliation with the official employment system --------------------------------------

OFFICIAL_STATUS = {
    "登记失业": Status.REGISTERED_UNEMPLOYED,
    "失业": Status.REGISTERED_UNEMPLOYED,
    "registered_unemployed": Status.REGISTERED_UNEMPLOYED,
    "就业": Status.EMPLOYED,
    "employed": Status.EMPLOYED,
    "灵活就业": Status.FLEXIBLE,
    "flexible": Status.FLEXIBLE,
    "自主创业": Status.SELF_EMPLOYED,
    "个体": Status.SELF_EMPLOYED,
    "self_employed": Status.SELF_EMPLOYED,
}


def reconcile(*, actor: Any, community: Division, data: bytes, filename: str, on: dt.date) -> Any:
    """Compare the ledger with the official system's export (CSV or XLSX: ID number, name,
    status), person by person. A bad row refuses the whole file with where it is; otherwise the
    differences are stored masked and their count becomes an indicator."""
    from civicmark.core.errors import ImportRefused, PlaceError
    from civicmark.core.tabular import Column, read_table
    from civicmark.employment.models import Reconciliation

    _keeper(actor, community)
    table = read_table(
        data,
        filename,
        [
            Column("id_number", ("身份证号", "公民身份号码", "证件号码")),
            Column("name", ("姓名",)),
            Column("status", ("就业状态", "状态", "人员状态")),
        ],
    )
    errors: list[PlaceError] = []
    official: dict[str, tuple[str, str, str]] = {}
    status: str | None
    for row_no, row in table.rows:
        try:
            number = pii.normalise(row["id_number"])
        except ApplicationError as exc:
            errors.append(
                PlaceError(exc.message, row=row_no, column="id_number", sheet=table.sheet)
            )
            continue
        status = OFFICIAL_STATUS.get(row["status"].strip())
        if status is None:
            errors.append(
                PlaceError(
                    _("Unknown status “%(s)s”; expected one of: %(all)s.")
                    % {"s": row["status"], "all": ", ".join(sorted(OFFICIAL_STATUS))},
                    row=row_no,
                    column="status",
                    sheet=table.sheet,
                )
            )
            continue
        digest = pii.keyed_hash(number)
        if digest in official:
            errors.append(
                PlaceError(
                    _("This person is listed twice."),
                    row=row_no,
                    column="id_number",
                    sheet=table.sheet,
                )
            )
            continue
        official[digest] = (row["name"].strip(), pii.mask(number), status)
    if errors:
        raise ImportRefused(errors=errors)
    details: list[dict[str, str]] = []
    ledger = {
        r.id_hash: r
        for r in Resident.objects.filter(household__community=community).prefetch_related("periods")
    }
    for digest, resident in ledger.items():
        period = status_on(resident, on)
        mine: str = period.status if period else ""
        theirs = official.get(digest)
        if theirs is None:
            if mine == Status.REGISTERED_UNEMPLOYED:
                details.append(
                    {
                        "kind": "missing_official",
                        "who": pii.mask_name(resident.name),
                        "id": resident.masked_id,
                        "ledger": mine,
                        "official": "",
                    }
                )
            continue
        if (theirs[2] in WORKING) != (mine in WORKING) or (
            (theirs[2] == Status.REGISTERED_UNEMPLOYED) != (mine == Status.REGISTERED_UNEMPLOYED)
        ):
            details.append(
                {
                    "kind": "status_differs",
                    "who": pii.mask_name(resident.name),
                    "id": resident.masked_id,
                    "ledger": mine,
                    "official": theirs[2],
                }
            )
    for digest, (name, masked, status) in official.items():
        if digest not in ledger:
            details.append(
                {
                    "kind": "missing_ledger",
                    "who": pii.mask_name(name),
                    "id": masked,
                    "ledger": "",
                    "official": status,
                }
            )
    with transaction.atomic():
        run = Reconciliation.objects.create(
            community=community,
            on=on,
            rows=len(official),
            mismatches=len(details),
            details=details,
            by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor=actor,
            action="employment.reconciled",
            object_type="reconciliation",
            object_ref=str(run.public_id),
            scope_path=community.path,
            summary=f"{len(official)} rows, {len(details)} mismatches",
        )
    return run


# --- Service packages -----------------------------------------------------------------------


def coverage(community: Division, year: int) -> list[dict[str, Any]]:
    """Who is owed services this year (registered unemployed, 4050 residents, members of a
    recognised difficulty group) and how many he got against his package: the largest package
    of the groups he belongs to."""
    from django.conf import settings
    from django.db.models import Count

    from civicmark.employment.indicators import q_4050

    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    residents = Resident.objects.filter(household__community__path__startswith=community.path)
    registered = set(
        residents.filter(periods__status=Status.REGISTERED_UNEMPLOYED, periods__start__lte=end)
        .filter(Q(periods__end__isnull=True) | Q(periods__end__gte=start))
        .values_list("pk", flat=True)
    )
    aged = set(residents.filter(q_4050(end)).values_list("pk", flat=True))
    packages: dict[int, int] = {pk: settings.CIVICMARK_DEFAULT_PACKAGE for pk in registered | aged}
    from civicmark.employment.models import Recognition

    for rec in (
        Recognition.objects.filter(resident__in=residents, recognised_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
        .select_related("group")
    ):
        packages[rec.resident_id] = max(packages.get(rec.resident_id, 0), rec.group.yearly_package)
    got = dict(
        ServiceRecord.objects.filter(resident__in=list(packages), on__range=(start, end))
        .values("resident")
        .annotate(n=Count("id"))
        .values_list("resident", "n")
    )
    rows = []
    for resident in residents.filter(pk__in=list(packages)).order_by("pk"):
        rows.append(
            {
                "resident": resident,
                "package": packages[resident.pk],
                "got": got.get(resident.pk, 0),
                "short": max(0, packages[resident.pk] - got.get(resident.pk, 0)),
            }
        )
    return rows


def recognise(*, actor: Any, resident: Resident, group: Any, day: dt.date) -> Any:
    """Recognise a person as in a difficulty group of his province's list, as the list stood on
    that day; later versions of the list leave this recognition as it is."""
    from civicmark.employment.models import Recognition

    _keeper(actor, resident.household.community)
    if not group.in_force(day):
        raise ApplicationError(_("That group is not on the list in force on %s.") % day)
    if not resident.household.community.path.startswith(group.province.path):
        raise ApplicationError(_("That list belongs to another province."))
    with transaction.atomic():
        rec = Recognition.objects.create(resident=resident, group=group, recognised_on=day)
        audit.record(
            actor=actor,
            action="employment.recognised",
            object_type="resident",
            object_ref=str(resident.public_id),
            scope_path=resident.household.community.path,
            summary=f"{group.code} {day}",
        )
    return rec


# --- Consent and retention ------------------------------------------------------------------

SHARE_PROFILE = "share_profile_with_employer"


def consent_record(*, actor: Any, resident: Resident, purpose: str, given: bool) -> None:
    from civicmark.employment.models import Consent

    _keeper(actor, resident.household.community)
    now = timezone.now()
    with transaction.atomic():
        if given:
            if not resident.consents.filter(purpose=purpose, withdrawn_at__isnull=True).exists():
                Consent.objects.create(resident=resident, purpose=purpose, given_at=now)
        else:
            resident.consents.filter(purpose=purpose, withdrawn_at__isnull=True).update(
                withdrawn_at=now
            )
        audit.record(
            actor=actor,
            action="employment.consent_given" if given else "employment.consent_withdrawn",
            object_type="resident",
            object_ref=str(resident.public_id),
            scope_path=resident.household.community.path,
            summary=purpose,
        )


def has_consent(resident: Resident, purpose: str = SHARE_PROFILE) -> bool:
    return resident.consents.filter(purpose=purpose, withdrawn_at__isnull=True).exists()


def pii_rekey(*, actor: Any, old_key: str, batch: int = 1000) -> int:
    """Re-encrypt every stored ID number, and re-hash it, under the current `PII_KEY`, reading it
    with `old_key` (ADR 8: what to do when a key may be known outside). A number that already
    reads under the current key is left alone, so a run that stopped half-way is simply run
    again; a number that reads under neither key stops the run before anything is written.
    Each batch is one transaction with its audit event. Returns the numbers re-keyed."""
    from django.conf import settings

    if actor is not None and not authz.is_super(actor):
        raise NotAllowed(_("Only the system's administrators re-key personal data."))
    if not old_key or old_key == settings.PII_KEY:
        raise ApplicationError(_("Give the old key, which must differ from the current one."))
    pending: list[tuple[Resident, str]] = []
    for resident in Resident.objects.exclude(id_cipher="").only("pk", "id_cipher").iterator():
        if pii.readable(resident.id_cipher, settings.PII_KEY) is not None:
            continue  # already under the current key
        number = pii.readable(resident.id_cipher, old_key)
        if number is None:
            raise ApplicationError(
                _("A stored ID number reads under neither key; nothing was re-keyed.")
            )
        pending.append((resident, number))
    done = 0
    for start in range(0, len(pending), batch):
        chunk = [resident for resident, _number in pending[start : start + batch]]
        with transaction.atomic():
            for resident, number in pending[start : start + batch]:
                resident.id_cipher = pii.encrypt(number)
                resident.id_hash = pii.keyed_hash(number)
            Resident.objects.bulk_update(chunk, ["id_cipher", "id_hash"])
            audit.record(
                actor=actor,
                via="cli",
                action="employment.pii_rekeyed",
                object_type="resident",
                summary=f"{len(chunk)} ID numbers re-encrypted under the current key",
            )
        done += len(chunk)
    return done


def anonymise_closed(*, actor: Any, today: dt.date, years: int) -> int:
    """Residents who moved away more than `years` ago lose their name, ID number and phone; the
    counts they took part in stay. Returns how many were anonymised."""
    import uuid as uuid_module

    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    done = 0
    with transaction.atomic():
        for resident in Resident.objects.select_for_update().filter(
            moved_away_on__lt=cutoff, anonymised_at__isnull=True
        ):
            resident.name = "—"
            resident.phone = ""
            resident.id_cipher = ""
            resident.id_hash = f"anonymised-{uuid_module.uuid4().hex}"[:64]
            resident.id_first6, resident.id_last4 = "******", "****"
            resident.anonymised_at = timezone.now()
            resident.save()
            done += 1
        if done:
            audit.record(
                actor=actor,
                via="system",
                action="employment.anonymised",
                object_type="resident",
                summary=f"{done} residents moved away before {cutoff}",
            )
    return done


# --- The bridge to scoring ------------------------------------------------------------------


def indicator_period(round_: Any, today: dt.date) -> tuple[dt.date, dt.date]:
    """The campaign's year up to the round's closing day (or today, if earlier)."""
    end = min(round_.closes_on or today, today)
    return dt.date(round_.campaign.year, 1, 1), end


def figures_for(community: Division, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    from civicmark.employment import indicators

    out = []
    for indicator in indicators.for_community(community, start, end):
        n, d = indicator.counts()
        out.append(
            {
                "key": indicator.key,
                "label": str(indicator.label),
                "n": n,
                "d": d,
                "rate": round(100 * n / d, 1) if d else None,
                "rows": indicator.rows(),
            }
        )
    return out


def figures_sign(*, actor: Any, round_: Any, enrollment: Any, today: dt.date) -> Any:
    """The assessor signs the community's employment figures for this round: they are frozen
    with the round's evidence as they stand now. Only an assessor of a Labour department who may
    score this community in this round signs, once. A signed-off round takes no signature
    (`panels.round_sealed_for`)."""
    from django.conf import settings

    from civicmark.employment.models import IndicatorSnapshot
    from civicmark.standards.models import Item

    items = Item.objects.filter(
        standard_id=round_.campaign.standard_id,
        department__code__in=settings.CIVICMARK_LABOUR_DEPARTMENTS,
    ).select_related("department")
    if not any(score_refusal(actor, round_, enrollment, i) is None for i in items):
        raise NotAllowed(_("Only a Labour assessor of this round signs these figures."))
    start, end = indicator_period(round_, today)
    community = enrollment.community
    with transaction.atomic():
        # The round as it stands now, not as the request loaded it: a signed-off round's
        # figures are sealed with the rest of its judgement until its lead reopens it.
        sealing.hold_for_writing(round_)
        fresh = type(round_).objects.select_related("campaign__division").get(pk=round_.pk)
        if panels.round_sealed_for(fresh, community):
            raise ApplicationError(
                _("%s is signed off: its figures are sealed until its lead reopens it.")
                % round_.name
            )
        if IndicatorSnapshot.objects.filter(
            round=round_, enrollment=enrollment, signed_by=actor
        ).exists():
            raise ApplicationError(_("You have already signed these figures."))
        snapshot = IndicatorSnapshot.objects.create(
            round=round_,
            enrollment=enrollment,
            signed_by=actor,
            signed_at=timezone.now(),
            period_start=start,
            period_end=end,
            figures=figures_for(community, start, end),
        )
        audit.record(
            actor=actor,
            action="employment.figures_signed",
            object_type="enrollment",
            object_ref=f"{round_.campaign.slug}/{round_.number}/{community.code}",
            scope_path=community.path,
            summary=f"{round_.name} {start}–{end}",
        )
    return snapshot


# --- Reference lists: the holiday calendar and the difficulty groups -------------------------


def calendar_import(*, actor: Any, rows: list[tuple[dt.date, str, bool]]) -> int:
    """The official calendar: holidays (off) and adjusted weekend days (on). Later deadlines count
    on it; deadlines already set keep their date."""
    if not authz.is_super(actor):
        raise NotAllowed(_("Only the operator sets the official calendar."))
    with transaction.atomic():
        known = {h.day: h for h in Holiday.objects.filter(day__in=[r[0] for r in rows])}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for day, name, working in rows:
            old = known.get(day)
            new = {"name": name[:40], "is_working_day": working}
            if old is not None and (old.name, old.is_working_day) != tuple(new.values()):
                # The day it replaces, so that the trail can put it back.
                before[str(day)] = {"name": old.name, "is_working_day": old.is_working_day}
                after[str(day)] = new
            Holiday.objects.update_or_create(day=day, defaults=new)
        audit.record(
            actor=actor,
            via="cli",
            action="employment.calendar_imported",
            object_type="calendar",
            summary=f"{len(rows)} days",
            before=before or None,
            after=after or None,
        )
    return len(rows)


def groups_import(
    *, actor: Any, province: Division, rows: list[tuple[str, str, dt.date, int]]
) -> int:
    """A province's list of groups in employment difficulty, as it stands from a date. A group
    whose name or package changes gets a new version from that date and the old one ends the day
    before; nothing already recognised is touched. Returns the number of new versions."""
    from civicmark.employment.models import DifficultyGroup

    if not authz.is_super(actor) and not authz.can_manage_campaigns(actor, province):
        raise NotAllowed(_("You may not change this province's list."))
    made = 0
    closed: dict[str, str] = {}
    with transaction.atomic():
        for code, name, start, package in rows:
            current = (
                DifficultyGroup.objects.filter(
                    province=province, code=code, effective_to__isnull=True
                )
                .order_by("-effective_from")
                .first()
            )
            if current is not None and (current.name, current.yearly_package) == (name, package):
                continue
            if current is not None:
                if start <= current.effective_from:
                    raise ApplicationError(
                        _("%(code)s: a new version must start after %(day)s.")
                        % {"code": code, "day": current.effective_from}
                    )
                current.effective_to = start - dt.timedelta(days=1)
                current.save(update_fields=["effective_to"])
                closed[code] = str(current.effective_to)
            DifficultyGroup.objects.create(
                province=province,
                code=code,
                name=name,
                effective_from=start,
                yearly_package=package,
            )
            made += 1
        audit.record(
            actor=actor,
            via="cli",
            action="employment.groups_imported",
            object_type="division",
            object_ref=province.code,
            scope_path=province.path,
            summary=f"{made} new versions",
            # The one field an import changes in a row it did not make: the end of the version
            # it replaces (open until then).
            before={code: {"effective_to": None} for code in closed} or None,
            after={code: {"effective_to": day} for code, day in closed.items()} or None,
        )
    return made


# --- Ledger import --------------------------------------------------------------------------


def ledger_import(
    *, actor: Any, community: Division, data: bytes, filename: str, today: dt.date
) -> int:
    """A community's ledger from a spreadsheet (household address, name, ID number, phone,
    status, since, registration number and date). Every row is checked first; one bad row
    refuses the file, with its row and column, and nothing is written. Error messages never
    repeat an ID number. Returns the number of residents added."""
    from civicmark.core.errors import ImportRefused, PlaceError
    from civicmark.core.tabular import Column, limit, read_table

    _keeper(actor, community)
    table = read_table(
        data,
        filename,
        [
            # Rows are inserted in bulk (no per-row check): each text is measured here.
            Column("address", ("地址", "家庭住址"), max_length=limit(Household, "address")),
            Column("name", ("姓名",), max_length=limit(Resident, "name")),
            Column("id_number", ("身份证号", "公民身份号码")),
            Column(
                "phone", ("电话", "联系电话"), required=False, max_length=limit(Resident, "phone")
            ),
            Column("status", ("就业状态", "状态")),
            Column("since", ("起始日期", "自")),
            Column(
                "registration_no",
                ("登记证号", "失业登记证号"),
                required=False,
                max_length=limit(StatusPeriod, "registration_no"),
            ),
            Column("registration_date", ("登记日期",), required=False),
        ],
    )
    from django.utils import translation

    labels = {v: v for v in Status.values}  # the codes, and the labels in either language
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels |= {str(label): value for value, label in Status.choices}
    errors: list[PlaceError] = []
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()

    def place(message: str, row: int, column: str) -> None:
        errors.append(PlaceError(message, row=row, column=column, sheet=table.sheet))

    for n, row in table.rows:
        try:
            number = pii.normalise(row["id_number"])
        except ApplicationError as exc:
            place(exc.message, n, "id_number")
            continue
        digest = pii.keyed_hash(number)
        if digest in seen:
            place(_("This person is already in a ledger (%s).") % pii.mask(number), n, "id_number")
            continue
        seen.add(digest)
        status = labels.get(row["status"].strip())
        if status is None:
            place(_("Unknown status “%s”.") % row["status"], n, "status")
        dates = {}
        for column in ("since", "registration_date"):
            raw = row.get(column, "").strip()
            if raw:
                try:
                    dates[column] = dt.date.fromisoformat(raw)
                except ValueError:
                    place(_("Not a date (YYYY-MM-DD)."), n, column)
        if "since" not in dates and row["since"].strip() == "":
            place(_("Empty."), n, "since")
        if not row["address"].strip():
            place(_("Empty."), n, "address")
        if not row["name"].strip():
            place(_("Empty."), n, "name")
        if status == Status.REGISTERED_UNEMPLOYED and not (
            row.get("registration_no", "").strip() and "registration_date" in dates
        ):
            place(
                _("Registered unemployed needs the official registration number and date."),
                n,
                "registration_no",
            )
        elif (
            status == Status.REGISTERED_UNEMPLOYED
            and "since" in dates
            and dates["registration_date"] > dates["since"]
        ):
            place(_("The registration date cannot be after the period."), n, "registration_date")
        rows.append({**row, "number": number, "status": status, "dates": dates, "row": n})
    # People already in some ledger: one query for the file's numbers, not the whole table,
    # and one for those of them the importer may see (the others' refusal says no more).
    known = {
        r.id_hash: r
        for r in Resident.objects.select_related("household__community").filter(
            id_hash__in=[pii.keyed_hash(r["number"]) for r in rows]
        )
    }
    visible = set(
        residents_for_user(actor).filter(id_hash__in=list(known)).values_list("id_hash", flat=True)
    )
    for entry in rows:
        digest = pii.keyed_hash(entry["number"])
        if digest in known:
            place(
                _already_registered(entry["number"], known[digest], digest in visible, community),
                entry["row"],
                "id_number",
            )
    if errors:
        errors.sort(key=lambda e: e.row or 0)  # in the file's order, whichever check found them
        raise ImportRefused(errors=errors)
    # Written in bulk: a station's first upload holds thousands of residents. Each resident
    # still gets the two audit events that adding him and setting his status give one at a
    # time; the file's checks above stand in for the per-person checks of those services.
    from django.db import IntegrityError

    with transaction.atomic():
        homes: dict[str, Household] = {
            h.address: h for h in Household.objects.filter(community=community)
        }
        had_homes = set(homes)
        for entry in rows:
            address = entry["address"].strip()
            if address not in homes:
                homes[address] = Household(community=community, address=address)
        Household.objects.bulk_create([h for a, h in homes.items() if a not in had_homes])
        residents = [
            _new_resident(
                homes[entry["address"].strip()],
                entry["name"],
                entry["number"],
                entry.get("phone", ""),
            )
            for entry in rows
        ]
        try:
            Resident.objects.bulk_create(residents, batch_size=1000)
        except IntegrityError:  # someone entered one of these people since the check
            raise ImportRefused(
                errors=[
                    PlaceError(
                        _("One of these people was entered meanwhile; upload the file again."),
                        sheet=table.sheet,
                    )
                ]
            ) from None
        registered = Status.REGISTERED_UNEMPLOYED
        StatusPeriod.objects.bulk_create(
            [
                StatusPeriod(
                    resident=resident,
                    status=entry["status"],
                    start=entry["dates"]["since"],
                    registration_no=entry.get("registration_no", "").strip()
                    if entry["status"] == registered
                    else "",
                    registration_date=entry["dates"].get("registration_date")
                    if entry["status"] == registered
                    else None,
                )
                for resident, entry in zip(residents, rows, strict=True)
            ],
            batch_size=1000,
        )
        events: list[audit.Event] = []
        for resident, entry in zip(residents, rows, strict=True):
            common = {
                "actor": actor,
                "object_type": "resident",
                "object_ref": str(resident.public_id),
                "scope_path": community.path,
            }
            events.append(
                audit.Event(
                    action="employment.resident_added",
                    summary=pii.mask_name(resident.name),
                    **common,
                )
            )
            events.append(
                audit.Event(
                    action="employment.status_set",
                    summary=f"{entry['status']} {entry['dates']['since']}",
                    **common,
                )
            )
        audit.record_many(events)
        # A member now at work clears his household's open zero-employment case, as setting his
        # status one at a time does (only households that were there before can have one).
        with_cases = set(
            ZeroEmploymentCase.objects.filter(
                household__community=community, closed_on__isnull=True
            ).values_list("household_id", flat=True)
        )
        for resident, entry in zip(residents, rows, strict=True):
            if resident.household_id in with_cases and entry["status"] in WORKING:
                _close_zero_case(
                    actor,
                    resident.household,
                    entry["dates"]["since"],
                    ExitReason.MEMBER_EMPLOYED,
                )
        audit.record(
            actor=actor,
            action="employment.ledger_imported",
            object_type="division",
            object_ref=community.code,
            scope_path=community.path,
            summary=f"{len(rows)} residents",
        )
    return len(rows)
