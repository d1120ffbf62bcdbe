"""Certificates of a title, verifiable by anyone with the code, and long exports run off-request."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment
from civicmark.core.models import StoredFileRecord
from civicmark.core.snapshots import Snapshot
from civicmark.divisions.models import Division

# Crockford's base32 without I, L, O, U: read aloud or typed from paper without confusion.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_code() -> str:
    """Ten characters, 50 random bits: not guessable by trying codes at the public page."""
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


class Certificate(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("verification code"), max_length=16, unique=True, default=new_code)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="certificates"
    )
    round = models.ForeignKey(AcceptanceRound, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(pgettext_lazy("honour", "title"), max_length=64)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2)
    awarded_on = models.DateField(_("awarded on"))
    issued_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    # A revocation is either the correction of an error (the certificate should never have been
    # issued) or, with `withdrawn`, the withdrawal of a title that was rightly given and later
    # failed its re-check (dynamic management, results/titles.py). The public page words the two
    # apart; only a withdrawal keeps the enrollment from being issued a certificate again.
    withdrawn = models.BooleanField(_("withdrawn under dynamic management"), default=False)

    class Meta:
        ordering = ["enrollment__community__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_standing_certificate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.level}"

    @property
    def stands(self) -> bool:
        return self.revoked_at is None

    @property
    def is_withdrawn(self) -> bool:
        return self.revoked_at is not None and self.withdrawn


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """A long export: the request that asks for it returns at once; a task on Django's task
    framework (results.jobs.run_export) writes the file and its progress here; the person comes
    back for it when it is ready."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=32)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    round_number = models.PositiveSmallIntegerField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    # Runs started: a job lost on the way is enqueued again, up to results.jobs.MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    path = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


# --- dynamic management of titles (issue 17 item 4, civicmark/results/titles.py) -------------


class RecheckSizeKind(models.TextChoices):
    SHARE = "share", _("a share (percent) of each county's titles")
    COUNT = "count", _("a number of titles per county")


class TitleKind(models.TextChoices):
    STANDARD = "standard", _("standard unit")
    COMMENDED = "commended", _("commended unit")


class RecheckDraw(models.Model):
    """The city's seeded draw of one year's re-checks among a campaign's standing titles: the
    seed and the sizes are kept, so that anyone can draw the same sample again
    (`titles.draw`). One per campaign and year: a draw one could repeat until it pleased would
    be no check."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recheck_draws")
    year = models.PositiveSmallIntegerField(_("year"))
    seed = models.BigIntegerField(_("seed"))
    kind = models.CharField(_("sample size as"), max_length=8, choices=RecheckSizeKind.choices)
    standard_size = models.PositiveSmallIntegerField(_("standard units"))
    commended_size = models.PositiveSmallIntegerField(_("commended units"))
    # Each stratum ("<kind>/<county code>") as drawn: how many titles stood in it, how many
    # were drawn. The same seed and these lists give the same sample.
    strata = models.JSONField(default=dict)
    drawn_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "year"], name="one_recheck_draw_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.year} #{self.seed}"


class RecheckStatus(models.TextChoices):
    PENDING = "pending", _("To re-check")
    PASSED = "passed", _("Passed: the title stands")
    FAILED = "failed", _("Failed: rectifying")
    FAILED_AGAIN = "failed_again", _("Failed again after the deadline")
    WITHDRAWN = "withdrawn", _("Title withdrawn")


class TitleRecheck(models.Model):
    """One drawn title's re-check: its result, the rectification a failure opened (in the
    community's own list, `assessments.Rectification`), the follow-up after the deadline, and
    the withdrawal when that failed too."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    draw = models.ForeignKey(RecheckDraw, on_delete=models.CASCADE, related_name="rechecks")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="rechecks")
    kind = models.CharField(
        pgettext_lazy("honour", "title"), max_length=12, choices=TitleKind.choices
    )
    county = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RecheckStatus.choices, default=RecheckStatus.PENDING
    )
    checked_on = models.DateField(_("re-checked on"), null=True, blank=True)
    finding = models.TextField(_("finding"), blank=True)
    rectification = models.ForeignKey(
        "assessments.Rectification",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    follow_up_on = models.DateField(_("followed up on"), null=True, blank=True)
    follow_up_finding = models.TextField(_("follow-up finding"), blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["certificate__enrollment__community__path"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "certificate"], name="one_recheck_per_title")
        ]

    def __str__(self) -> str:
        return f"{self.certificate.enrollment.community} {self.draw.year}"


class RecheckEvidence(StoredFileRecord):
    """A document of a re-check (a photo, the inspection's minutes), at the step it backs."""

    recheck = models.ForeignKey(TitleRecheck, on_delete=models.CASCADE, related_name="evidence")
    step = models.CharField(max_length=16)  # "checked", "follow_up" or "withdrawn"


# --- the report upward (上报, issue 18 item 6, ADR 25: civicmark/results/upward.py) ----------


class DocumentsState(models.TextChoices):
    READY = "ready", _("Ready")
    FAILED = "failed", _("Could not be made")


class UpwardReport(models.Model):
    """A county's report to the city of the communities that passed its pre-acceptance: the
    workflow step (pre-accepted -> reported) taken for them, what was reported as it stood then
    (the lines, the names, the statement), and its two documents. The record is what was
    reported: the documents are made from it, never from the live data, and kept once made."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="upward_reports")
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    # The county's reports in a campaign are numbered 1, 2, … (a first batch before the July
    # round, a second later).
    number = models.PositiveSmallIntegerField(_("report number"))
    statement = models.TextField(_("the county's statement"))
    # As they read when reported: a later renaming does not change a document made from them.
    campaign_name = models.CharField(max_length=200)
    county_name = models.CharField(max_length=200)
    addressee = models.CharField(max_length=200)
    language = models.CharField(max_length=16)
    reported_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter_name = models.CharField(max_length=200, blank=True)
    reported_at = models.DateTimeField(_("reported at"))
    documents = models.CharField(_("documents"), max_length=8, choices=DocumentsState.choices)
    failure = models.TextField(_("why the documents could not be made"), blank=True)

    class Meta:
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "county", "number"], name="one_upward_report_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.county_name} {self.number}"


class ReportedCommunity(models.Model):
    """One line of a report: a community and its pre-acceptance result, as reported."""

    report = models.ForeignKey(UpwardReport, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    town = models.CharField(max_length=200, blank=True)
    round_name = models.CharField(max_length=200, blank=True)
    total = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["report", "position"]
        constraints = [
            models.UniqueConstraint(fields=["report", "enrollment"], name="reported_once_a_report"),
            models.UniqueConstraint(fields=["report", "position"], name="one_line_a_position"),
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.code}"


class DocumentKind(models.TextChoices):
    PDF = "pdf", _("Report (PDF)")
    XLSX = "xlsx", _("List of communities (.xlsx)")


class UpwardDocument(StoredFileRecord):
    """A report's document as made once and kept: served as stored, its SHA-256 checked."""

    report = models.ForeignKey(UpwardReport, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=8, choices=DocumentKind.choices)

    class Meta:
        ordering = ["report", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["report", "kind"], name="one_document_a_kind")
        ]


class FiguresSnapshot(Snapshot):
    """A campaign's whole-scope figures as of `taken_at` (ADR 29): the dashboard's charts and key
    figures in each language, and what the ranking page counts (communities per outcome, the
    ranked ones, the counties and towns to filter by). Refreshed off-request by a task
    (`results.snapshots`) after writes, never recomputed per request; a page that reads it says
    "as of <time>" and, when something was written since, that it is being refreshed."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.taken_at}"
