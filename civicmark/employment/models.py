"""The community employment station: the labour ledger, target groups, zero-employment
households, the job bank, referrals and the service log.

Personal data are kept as the personal-information law asks: the ID number only encrypted (with a
keyed hash to find duplicates), sensitive flags (disability, subsistence allowance) readable only
by people given that permission, and every reveal audited."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicmark.divisions.models import Division


class Status(models.TextChoices):
    EMPLOYED = "employed", _("Employed")
    FLEXIBLE = "flexible", _("Flexible work")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    REGISTERED_UNEMPLOYED = "registered_unemployed", _("Registered unemployed")
    UNREGISTERED_JOBLESS = "unregistered_jobless", _("Jobless, not registered")
    OUT_OF_LABOUR_FORCE = "out_of_labour_force", _("Out of the labour force")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")


WORKING = {Status.EMPLOYED, Status.FLEXIBLE, Status.SELF_EMPLOYED}


class Household(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    community = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="households", verbose_name=_("community")
    )
    address = models.CharField(_("address"), max_length=120)  # estate, building, door

    class Meta:
        ordering = ["community__path", "address"]
        constraints = [
            models.UniqueConstraint(fields=["community", "address"], name="household_address")
        ]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.address


class Resident(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("household")
    )
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=[("M", _("male")), ("F", _("female"))])
    birth_date = models.DateField(_("birth date"))
    # Never in clear: the Fernet token, and the keyed hash that finds the same person twice.
    id_cipher = models.TextField(editable=False)
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_last4 = models.CharField(max_length=4, editable=False)
    id_first6 = models.CharField(max_length=6, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    able_to_work = models.BooleanField(_("able to work"), default=True)
    # Sensitive personal information (specific identities): only with view_sensitive_flags.
    disability = models.BooleanField(_("disability certificate"), default=False)
    subsistence = models.BooleanField(_("subsistence allowance"), default=False)
    moved_away_on = models.DateField(_("moved away on"), null=True, blank=True)
    # What he looks for, for the rule-based match against the job bank.
    wants_category = models.CharField(_("wanted category"), max_length=40, blank=True)
    wants_hours = models.CharField(_("wanted hours"), max_length=8, blank=True)
    max_km = models.DecimalField(
        _("furthest distance (km)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    min_wage = models.PositiveIntegerField(_("lowest monthly wage (yuan)"), null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household__address", "birth_date"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        permissions = [
            ("reveal_id_number", _("Reveal a resident's full ID number (with a reason)")),
            ("view_sensitive_flags", _("See disability and subsistence-allowance flags")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id(self) -> str:
        return f"{self.id_first6}{'*' * 8}{self.id_last4}"


class StatusPeriod(models.Model):
    """One stretch of one employment status: [start, end], end empty while it lasts. Periods of
    one person never overlap, so any past date has exactly one status (or none recorded)."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="periods")
    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"), null=True, blank=True)
    registration_no = models.CharField(_("registration number"), max_length=40, blank=True)
    registration_date = models.DateField(_("registered on"), null=True, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resident", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="registered_unemployed")
                | (Q(registration_date__isnull=False) & ~Q(registration_no="")),
                name="registered_has_number_and_date",
            ),
        ]
        indexes = [models.Index(fields=["resident", "start", "end"])]

    def __str__(self) -> str:
        return f"{self.status} {self.start}–{self.end or ''}"

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class DifficultyGroup(models.Model):
    """One group of people in employment difficulty on a province's list, with the dates it is
    in force. A change to the list is a new row: past recognitions keep pointing at the old one."""

    province = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until"), null=True, blank=True)
    yearly_package = models.PositiveSmallIntegerField(
        _("yearly minimum services"), default=3, help_text=_("Services a member gets each year.")
    )

    class Meta:
        ordering = ["province", "code", "effective_from"]
        verbose_name = _("difficulty group")
        verbose_name_plural = _("difficulty groups")

    def __str__(self) -> str:
        return self.name

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class Recognition(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="recognitions")
    group = models.ForeignKey(DifficultyGroup, on_delete=models.PROTECT, related_name="+")
    recognised_on = models.DateField(_("recognised on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["recognised_on"]

    def __str__(self) -> str:
        return f"{self.group_id} {self.recognised_on}"


class Holiday(models.Model):
    """The official calendar: public holidays, and weekend days made working days (调休)."""

    day = models.DateField(unique=True)
    is_working_day = models.BooleanField(default=False)
    name = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class ExitReason(models.TextChoices):
    MEMBER_EMPLOYED = "member_employed", _("A member found work")
    REFUSALS = "refusals", _("Repeated refusals of suitable offers")
    UNREACHABLE = "unreachable", _("Unreachable for three months")
    MOVED_AWAY = "moved_away", _("Moved away")


class ZeroEmploymentCase(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="zero_cases")
    recognised_on = models.DateField(_("recognised on"))
    deadline = models.DateField(_("clear by"))
    rule = models.CharField(_("deadline rule"), max_length=40)  # e.g. "10 working_days"
    closed_on = models.DateField(_("cleared on"), null=True, blank=True)
    exit_reason = models.CharField(
        _("way out"), max_length=20, choices=ExitReason.choices, blank=True
    )

    class Meta:
        ordering = ["-recognised_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(closed_on__isnull=True),
                name="one_open_zero_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recognised_on} → {self.deadline}"

    def overdue(self, today: dt.date) -> bool:
        if self.closed_on is not None:
            return self.closed_on > self.deadline
        return today > self.deadline


class Employer(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    contact = models.CharField(_("contact"), max_length=60, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VacancyState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Awaiting review")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")


class Hours(models.TextChoices):
    FULL = "full", _("Full time")
    PART = "part", _("Part time")
    SHIFTS = "shifts", _("Shifts")


class Vacancy(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="vacancies")
    community = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="vacancies", verbose_name=_("community")
    )
    title = models.CharField(_("post"), max_length=80)
    category = models.CharField(_("category"), max_length=40)
    hours = models.CharField(_("hours"), max_length=8, choices=Hours.choices)
    wage_min = models.PositiveIntegerField(_("monthly wage from (yuan)"))
    wage_max = models.PositiveIntegerField(_("monthly wage to (yuan)"))
    openings = models.PositiveSmallIntegerField(_("openings"), default=1)
    distance_km = models.DecimalField(
        _("distance from the community (km)"), max_digits=5, decimal_places=1, default=0
    )
    state = models.CharField(
        max_length=10, choices=VacancyState.choices, default=VacancyState.DRAFT
    )
    published_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(wage_max__gte=models.F("wage_min")), name="wage_range"
            ),
            models.CheckConstraint(
                condition=~Q(state="published") | Q(expires_on__isnull=False),
                name="published_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open(self, today: dt.date) -> bool:
        return (
            self.state == VacancyState.PUBLISHED
            and self.expires_on is not None
            and today <= self.expires_on
        )


class ReferralState(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    INTERVIEW = "interview", _("Interview")
    HIRED = "hired", _("Hired")
    REFUSED = "refused", _("Refused")
    NO_SHOW = "no_show", _("Did not attend")
    CLOSED = "closed", _("Closed: hired elsewhere")


OPEN_REFERRAL = {ReferralState.NEW, ReferralState.CONTACTED, ReferralState.INTERVIEW}


class Referral(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="referrals")
    vacancy = models.ForeignKey(Vacancy, on_delete=models.PROTECT, related_name="referrals")
    state = models.CharField(
        max_length=10, choices=ReferralState.choices, default=ReferralState.NEW
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Until the resident consents, the employer sees an anonymous profile only.
    consent_at = models.DateTimeField(null=True, blank=True)
    created_on = models.DateField()
    hired_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["resident", "vacancy"], name="one_referral_per_post")
        ]

    def __str__(self) -> str:
        return str(self.public_id)


class ReferralStep(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(max_length=10)
    to_state = models.CharField(max_length=10)
    on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class ServiceKind(models.TextChoices):
    GUIDANCE = "guidance", _("Career guidance")
    REFERRAL = "referral", _("Job referral")
    TRAINING = "training", _("Training information")
    STARTUP = "startup", _("Start-up help")
    VISIT = "visit", _("Home visit")


class ServiceRecord(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(_("service"), max_length=10, choices=ServiceKind.choices)
    on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.on}"


class Consent(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=40)  # e.g. "share_profile_with_employer"
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.given_at:%Y-%m-%d}"


class FollowUp(models.Model):
    """A check after a placement (by default at 1 and 3 months): still in the job or not."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="follow_ups")
    months = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    still_employed = models.BooleanField(null=True)

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "months"], name="one_follow_up_per_interval"
            )
        ]

    def __str__(self) -> str:
        return f"{self.months} → {self.due_on}"


class JobFair(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    held_on = models.DateField(_("held on"))

    class Meta:
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return self.title


class FairEmployer(models.Model):
    fair = models.ForeignKey(JobFair, on_delete=models.CASCADE, related_name="offers")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="+")
    posts_offered = models.PositiveSmallIntegerField(_("posts offered"), default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fair", "employer"], name="fair_employer")]

    def __str__(self) -> str:
        return f"{self.fair_id} {self.employer_id}"


class FairAttendance(models.Model):
    fair = models.ForeignKey(JobFair, on_delete=models.CASCADE, related_name="attendance")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fair", "resident"], name="one_check_in")]

    def __str__(self) -> str:
        return f"{self.fair_id} {self.resident_id}"


class Reconciliation(models.Model):
    """One comparison of a community's ledger with the official employment system's export."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    rows = models.PositiveIntegerField()
    mismatches = models.PositiveIntegerField()
    # [{"kind": ..., "who": masked name, "id": masked ID, "ledger": ..., "official": ...}]
    details = models.JSONField(default=list)
    by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.community_id} {self.on}: {self.mismatches}"


class IndicatorSnapshot(models.Model):
    """The employment figures as they stood when an assessor signed a community's employment
    items in a round: kept with the round's evidence, never recomputed."""

    round = models.ForeignKey(
        "campaigns.AcceptanceRound", on_delete=models.PROTECT, related_name="+"
    )
    enrollment = models.ForeignKey(
        "campaigns.Enrollment", on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    period_start = models.DateField()
    period_end = models.DateField()
    figures = models.JSONField()

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "enrollment", "signed_by"], name="one_snapshot_per_signature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round_id} {self.enrollment_id} {self.signed_at:%Y-%m-%d}"
