"""A campaign: the plan's six work steps as phases, the tasks they give each unit, meetings."""

from __future__ import annotations

import uuid
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.core.models import StoredFileRecord
from civicmark.core.snapshots import Snapshot
from civicmark.divisions.models import Division, WorkingGroup
from civicmark.standards.models import Standard


class MissingEvidence(models.TextChoices):
    """What a self-assessment submitted with items still lacking the evidence they ask meets."""

    WARN = "warn", _("warns: the items without evidence are listed, the submission goes through")
    BLOCK = "block", _("blocks: no submission while an item lacks its evidence")


# A window longer than a quarter would keep a signed-off result open to appeal for too long.
MAX_APPEAL_DAYS = 90


class Campaign(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    year = models.PositiveIntegerField(_("year"))
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("run by")
    )
    standard = models.ForeignKey(
        Standard, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("standard")
    )
    working_groups = models.ManyToManyField(
        WorkingGroup, blank=True, related_name="campaigns", verbose_name=_("working groups")
    )
    missing_evidence = models.CharField(
        _("missing evidence"),
        max_length=8,
        choices=MissingEvidence.choices,
        default=MissingEvidence.WARN,
    )
    # How many days after a round's results a community may appeal a score or a veto finding
    # (issue 17 item 3, civicmark/quality/appeals.py); 0: the campaign takes no appeals.
    appeal_days = models.PositiveSmallIntegerField(_("days to appeal a result"), default=7)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "name"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="enrollments")
    is_pilot = models.BooleanField(_("pilot"), default=False)
    # Changed only through civicmark.assessments.workflow, which records every transition.
    status = models.CharField(_("status"), max_length=24, default="enrolled", db_index=True)

    class Meta:
        ordering = ["community__path"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "community"], name="unique_enrollment")
        ]
        # The campaign's newest enrollment by one index look-up (scoring.materialize, ADR 29).
        indexes = [models.Index(fields=["campaign", "id"], name="enrollment_campaign_id")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.community}"


class Phase(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    key = models.CharField(_("step"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    starts_on = models.DateField(_("starts"))
    due_on = models.DateField(_("due"))

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="unique_phase_key")]

    def __str__(self) -> str:
        return self.name


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class TaskFollows(models.TextChoices):
    """The work a task stands for, when the workflow shows it done: such a task is done exactly
    while that work is (civicmark.assessments.followers keeps it so), never ticked by hand."""

    NOTHING = "", _("nothing: its unit reports it done")
    SUBMISSION = "submission", _("the community submits its self-assessment")
    COUNTY_ROUND = "county_round", _("the county round is finalised for the county")


class Task(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="tasks")
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("unit")
    )
    title = models.CharField(_("task"), max_length=200)
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due"), db_index=True)
    # A due date set by hand no longer follows its phase's date (see campaigns.services).
    due_set_by_hand = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Set from the plan (campaigns.plan.FOLLOWS): the work whose progress is this task's status.
    follows = models.CharField(
        _("done when"), max_length=16, choices=TaskFollows.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["due_on", "division__path"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["campaign", "division"])]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date) -> bool:
        return self.status != TaskStatus.DONE and self.due_on < today


class MeetingKind(models.TextChoices):
    MOBILISATION = "mobilisation", _("Mobilisation meeting")
    ON_SITE = "on_site", _("On-the-spot meeting at the pilot")
    TRAINING = "training", _("Training for neighbourhood committee cadres")
    OTHER = "other", _("Other meeting")


class Meeting(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(_("kind"), max_length=16, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    host = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("host")
    )

    class Meta:
        ordering = ["held_on"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    """Who was expected at a meeting, and whether they came."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=64)
    attended = models.BooleanField(_("attended"), default=False)

    class Meta:
        ordering = ["community__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "community", "name"], name="unique_attendee")
        ]

    def __str__(self) -> str:
        return self.name


class CombineRule(models.TextChoices):
    MEAN = "mean", _("Mean")
    MEDIAN = "median", _("Median")
    MINIMUM = "minimum", _("Minimum")


class Rescore(models.TextChoices):
    LOST = "lost", _("Only the items that lost points")
    ALL = "all", _("Every item")


class AcceptanceRound(models.Model):
    """The rounds of acceptance, in order: by default the county pre-acceptance, then two municipal."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16)  # the level that accepts: county or city
    opens_on = models.DateField(_("opens"))
    closes_on = models.DateField(_("closes"))
    # How several assessors' points on one item combine: mean, median or minimum.
    combine_rule = models.CharField(
        _("combining rule"), max_length=16, choices=CombineRule.choices, default="mean"
    )
    finalised_at = models.DateTimeField(null=True, blank=True)
    # A second municipal round re-scores what was rectified; every other item keeps the score
    # it had in this earlier round.
    carries_from = models.PositiveSmallIntegerField(null=True, blank=True)
    # What a carrying round re-scores: "lost" (the items that lost points before) or "all".
    rescore = models.CharField(
        _("re-scores"), max_length=8, choices=Rescore.choices, default="lost"
    )
    lead = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lead"),
    )
    # Assessors further apart than this on an item disagree (empty: a fifth of the item's
    # maximum); the lead settles disagreements before the round is finalised (ADR 17).
    disagreement_gap = models.DecimalField(
        _("disagreement gap"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    # Empty means the default panel and coverage (see assessments.panels); once the lead picks
    # them, these lists are what counts.
    panel = models.ManyToManyField(User, blank=True, related_name="panels")
    covers = models.ManyToManyField(Enrollment, blank=True, related_name="rounds_covering")

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="unique_round_number")
        ]

    def __str__(self) -> str:
        return self.name


class RoundPart(models.Model):
    """One county's part of a county round in a campaign run by a city (ADR 12): its combining
    rule and its sign-off. The county officer leads his county's part; the round counts as
    finalised once every part that covers communities is. Created when first needed."""

    round = models.ForeignKey(AcceptanceRound, on_delete=models.CASCADE, related_name="parts")
    county = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    # Empty: the round's rule. Pinned to the rule in force when the part is finalised, so that
    # changing the round's default never changes what a finalised part judged.
    combine_rule = models.CharField(
        _("combining rule"), max_length=16, choices=CombineRule.choices, blank=True
    )
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["county__path"]
        constraints = [
            models.UniqueConstraint(fields=["round", "county"], name="unique_round_part")
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.county}"


class TaskAttachment(StoredFileRecord):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attachments")


class ProgressSnapshot(Snapshot):
    """A campaign's overview figures for a viewer who sees the whole campaign, as of `taken_at`
    (ADR 30): task progress per phase, the towns and communities with the most overdue work and
    how many there are, the week's due tasks and the attendance. Taken off-request
    (`campaigns.progress`) after writes, never recomputed per request; the page says "as of
    <time>" and, when something was written since or the day changed, that it is being
    refreshed."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.taken_at}"
