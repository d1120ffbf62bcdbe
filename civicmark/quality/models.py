"""The quality of the assessment itself (issue 17, ADR 20). For now assessor calibration: an
exercise the round's lead opens, in which every panel member scores the same reference (a
community, or a described set of evidence) on a separate sheet, never the round's real scores."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core.models import StoredFileRecord
from civicmark.divisions.models import Division
from civicmark.standards.models import Item, points_field


class CalibrationExercise(models.Model):
    """One calibration exercise of a round: what is scored (a reference community, or evidence
    described in words), which items, and who sits on it (the round's panel when it opened, so
    that a later change of the panel does not change whose sheets the figures read)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        AcceptanceRound, on_delete=models.CASCADE, related_name="calibrations"
    )
    community = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reference community"),
    )
    evidence = models.TextField(_("evidence scored"), blank=True)
    items = models.ManyToManyField(Item, related_name="+", verbose_name=_("items"))
    members = models.ManyToManyField(User, related_name="calibrations", verbose_name=_("panel"))
    opened_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.community.name if self.community is not None else self.evidence[:60]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CalibrationScore(models.Model):
    """What one panel member gave one item of the exercise (and why, for a deduction)."""

    exercise = models.ForeignKey(
        CalibrationExercise, on_delete=models.CASCADE, related_name="scores"
    )
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    points = points_field(_("points"))
    reason = models.TextField(_("reason"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "assessor", "item"], name="one_calibration_score"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.points}"


# --- county accuracy (issue 17 item 1, civicmark/quality/sampling.py) ------------------------


class SizeKind(models.TextChoices):
    SHARE = "share", _("a share (percent) of what the county pre-accepted")
    COUNT = "count", _("a number of communities per county")


class SamplingSettings(models.Model):
    """How large the city's re-check sample of each county is, in one campaign: the usual size,
    the enlarged size for a county whose last sample lay beyond the threshold, and the
    threshold (mean absolute deviation of the total, city minus county, in points). A campaign
    without a row uses the defaults of `sampling.DEFAULTS`."""

    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="sampling_settings"
    )
    kind = models.CharField(
        _("sample size as"), max_length=8, choices=SizeKind.choices, default=SizeKind.SHARE
    )
    base = models.PositiveSmallIntegerField(_("usual size"))
    enlarged = models.PositiveSmallIntegerField(_("enlarged size"))
    threshold = models.DecimalField(
        _("deviation threshold (points)"), max_digits=6, decimal_places=2
    )
    updated_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.base}/{self.enlarged} > {self.threshold}"


class SampleDraw(models.Model):
    """The city's seeded draw for a municipal round: the seed and the sizes in force are kept,
    so that anyone can draw the same sample again from the same lists (`sampling.draw`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.OneToOneField(
        AcceptanceRound, on_delete=models.CASCADE, related_name="sample_draw"
    )
    # The county round whose scores the sample re-checks.
    county_round = models.ForeignKey(AcceptanceRound, on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField(_("seed"))
    kind = models.CharField(max_length=8, choices=SizeKind.choices)
    base = models.PositiveSmallIntegerField()
    enlarged = models.PositiveSmallIntegerField()
    threshold = models.DecimalField(max_digits=6, decimal_places=2)
    drawn_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-drawn_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.round} #{self.seed}"


class SampleStratum(models.Model):
    """One county's part of a draw: how many it had pre-accepted, how many were drawn and why
    that many (the county's previous stratum and its deviation when it was enlarged)."""

    draw = models.ForeignKey(SampleDraw, on_delete=models.CASCADE, related_name="strata")
    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    population = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    enlarged = models.BooleanField(default=False)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_deviation = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    communities = models.ManyToManyField(
        "campaigns.Enrollment", related_name="+", verbose_name=_("communities drawn")
    )

    class Meta:
        ordering = ["county__path"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "county"], name="one_stratum_per_county")
        ]

    def __str__(self) -> str:
        return f"{self.county.name}: {self.size}/{self.population}"


# --- appeals (issue 17 item 3, civicmark/quality/appeals.py) ----------------------------------


class AppealStatus(models.TextChoices):
    FILED = "filed", _("filed: waiting for a reviewer")
    ASSIGNED = "assigned", _("with its reviewer")
    UPHELD = "upheld", _("upheld: the result stands")
    CHANGED = "changed", _("changed on appeal")


OPEN_APPEALS = (AppealStatus.FILED, AppealStatus.ASSIGNED)


class Appeal(models.Model):
    """A community contests one item's score, or one veto finding, of a signed-off round: its
    statement, the reviewer the round's lead assigns (someone who did not score it), and the
    reviewer's decision with what it changed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(AcceptanceRound, on_delete=models.CASCADE, related_name="appeals")
    enrollment = models.ForeignKey(
        "campaigns.Enrollment", on_delete=models.CASCADE, related_name="appeals"
    )
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    veto = models.ForeignKey(
        "standards.VetoItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("veto"),
    )
    statement = models.TextField(_("statement"))
    status = models.CharField(
        _("status"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.FILED
    )
    filed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(auto_now_add=True)
    reviewer = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals_to_review",
        verbose_name=_("reviewer"),
    )
    assigned_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(_("reason for the decision"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # What the item (or the veto) and the result were before the decision and after it.
    value_before = models.CharField(max_length=32, blank=True)
    value_after = models.CharField(max_length=32, blank=True)
    total_before = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    total_after = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    outcome_before = models.CharField(max_length=16, blank=True)
    outcome_after = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(item__isnull=False, veto__isnull=True)
                | models.Q(item__isnull=True, veto__isnull=False),
                name="appeal_item_or_veto",
            ),
            models.UniqueConstraint(
                fields=["round", "enrollment", "item"],
                condition=models.Q(status__in=["filed", "assigned"], item__isnull=False),
                name="one_open_appeal_per_item",
            ),
            models.UniqueConstraint(
                fields=["round", "enrollment", "veto"],
                condition=models.Q(status__in=["filed", "assigned"], veto__isnull=False),
                name="one_open_appeal_per_veto",
            ),
        ]

    def __str__(self) -> str:
        what = self.item.code if self.item_id and self.item else ""
        if self.veto_id and self.veto:
            what = self.veto.code
        return f"{self.enrollment.community.name} {what}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPEALS

    @property
    def subject_code(self) -> str:
        return self.item.code if self.item is not None else self.veto.code if self.veto else ""


class AppealEvidence(StoredFileRecord):
    """A document of an appeal: the community's with its statement, or the reviewer's with his
    decision (`by_reviewer`)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="files")
    by_reviewer = models.BooleanField(default=False)
