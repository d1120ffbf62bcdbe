"""Sampled household surveys that feed scoring items.

Two sides that never meet in one row: the *code side* (the household frame, the draw, the
single-use codes and paper entries, which know addresses) and the *answer side* (responses, which
keep a community, a date, how and by whom they were collected, and the answers; nothing that leads
back to a door)."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.divisions.models import Division

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


TAG_LENGTH = 4


def new_code() -> str:
    """Eight characters, 40 random bits, read off a door card without confusion."""
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def new_tag() -> str:
    """Four characters that start every code of one draw: not secret (the door card is the
    community's anyway), they tell the throttle which community's survey a typed code claims."""
    return "".join(secrets.choice(ALPHABET) for _ in range(TAG_LENGTH))


class Instrument(models.Model):
    """A questionnaire, versioned like a standard: once published it never changes; a change is
    the next version."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    standard = models.ForeignKey(
        "standards.Standard", on_delete=models.PROTECT, related_name="instruments"
    )
    slug = models.SlugField(max_length=60)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(_("name"), max_length=120)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="instrument_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Question(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="questions")
    code = models.CharField(max_length=16)
    text = models.CharField(_("question"), max_length=300)
    order = models.PositiveSmallIntegerField(default=0)
    # The scoring item it feeds (an item checked by resident survey), or none.
    item = models.ForeignKey(
        "standards.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # [{"code": "5", "label": "很满意", "weight": 100}, ...]
    scale = models.JSONField()

    class Meta:
        ordering = ["instrument", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["instrument", "code"], name="question_code")]

    def __str__(self) -> str:
        return self.code


class ItemRule(models.Model):
    """How one item's points come from the answers, as data and versioned: a change is a new
    row and scores keep pointing at the version they were computed under."""

    item = models.ForeignKey("standards.Item", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    method = models.CharField(
        max_length=8, choices=[("rate", _("satisfaction rate")), ("mean", _("weighted mean"))]
    )
    satisfied = models.JSONField(default=list)  # answer codes counted as satisfied (rate)
    excluded = models.JSONField(default=list)  # answer codes left out of the denominator
    # [{"low": "80", "low_in": true, "high": null, "high_in": false, "points": "4"}, ...]
    bands = models.JSONField()
    min_sample = models.PositiveSmallIntegerField(default=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "-version"]
        constraints = [models.UniqueConstraint(fields=["item", "version"], name="rule_version")]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version}"


class Collector(models.TextChoices):
    RESIDENT = "resident", _("The resident, from the door card")
    THIRD_PARTY = "third_party", _("Third-party survey firm")
    ASSESSMENT_TEAM = "assessment_team", _("Assessment team")
    COMMUNITY = "community", _("Community volunteer")


class Mode(models.TextChoices):
    DOOR_CARD = "door_card", _("Door card (phone)")
    TABLET = "tablet", _("Door to door, tablet")
    PAPER = "paper", _("Paper, double entry")


class SurveyRound(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        "campaigns.AcceptanceRound", on_delete=models.PROTECT, related_name="surveys"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    sample_size = models.PositiveSmallIntegerField(_("households drawn"), default=55)
    reserve_size = models.PositiveSmallIntegerField(_("reserve households"), default=20)
    method = models.CharField(
        max_length=12,
        choices=[("simple", _("simple random")), ("systematic", _("systematic, random start"))],
        default="systematic",
    )
    substitution_alert = models.PositiveSmallIntegerField(
        _("substitution alert above (%)"), default=30
    )
    refuse_community_collected = models.BooleanField(
        _("refuse answers collected by the community itself"), default=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.round} · {self.instrument}"


class FrameHousehold(models.Model):
    """One household of a community's sampling frame: an address, no names. Two households
    behind one door are two rows (household number 1, 2)."""

    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    estate = models.CharField(_("estate"), max_length=60)
    building = models.CharField(_("building"), max_length=30)
    door = models.CharField(_("door"), max_length=30)
    household_no = models.PositiveSmallIntegerField(_("household at that door"), default=1)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["community", "estate", "building", "door", "household_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "estate", "building", "door", "household_no"],
                name="frame_household",
            )
        ]

    def __str__(self) -> str:
        suffix = f"（{self.household_no}）" if self.household_no > 1 else ""
        return f"{self.estate}{self.building}{self.door}{suffix}"


class Draw(models.Model):
    survey = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="draws")
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    seed = models.CharField(max_length=40)
    method = models.CharField(max_length=12)
    # The first characters of the draw's codes (none for draws made before codes had them).
    tag = models.CharField(max_length=TAG_LENGTH, unique=True, null=True, blank=True)
    frame_snapshot = models.JSONField()  # [[household id, address], ...] in frame order
    drawn_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "community"], name="one_draw_per_community")
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.community_id}"


class Slot(models.TextChoices):
    SAMPLE = "sample", _("sample")
    RESERVE = "reserve", _("reserve")


class Drawn(models.Model):
    """A drawn household and its single-use code (the code side)."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="households")
    household = models.ForeignKey(FrameHousehold, on_delete=models.PROTECT, related_name="+")
    slot = models.CharField(max_length=8, choices=Slot.choices)
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=12, unique=True, default=new_code)
    in_sample = models.BooleanField(default=False)  # the sample as it stands after substitutions
    # Whether the code has answered, and nothing of when: a date here, joined with the answer's
    # date, named the household on any day with one answer in its community (ADR 9).
    used = models.BooleanField(default=False)
    replaced_reason = models.CharField(max_length=20, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )

    class Meta:
        ordering = ["draw", "slot", "position"]

    def __str__(self) -> str:
        return f"{self.slot} {self.position}"


class SubstitutionReason(models.TextChoices):
    REFUSED = "refused", _("Refused")
    NOBODY_HOME = "nobody_home", _("Nobody home after three visits")
    NOT_ELIGIBLE = "not_eligible", _("No eligible adult")
    VACANT = "vacant", _("Vacant dwelling")


class Response(models.Model):
    """One household's answers (the answer side): no code, no address, only the date. Nothing
    on the code side keeps a time or an order of answering to join this date or this id with."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    survey = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="responses")
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    answered_on = models.DateField()
    mode = models.CharField(max_length=10, choices=Mode.choices)
    collector = models.CharField(max_length=16, choices=Collector.choices)
    answers = models.JSONField()  # {question code: answer code}
    # A device-made id: an offline entry sent twice is stored once.
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["survey", "community", "answered_on"]
        indexes = [models.Index(fields=["survey", "community"])]

    def __str__(self) -> str:
        return str(self.public_id)


class PaperEntry(models.Model):
    """One clerk's keying of one paper form (form number = the code), while the form is open.
    Two clerks key each form; the response is made when they agree or a supervisor settles each
    difference, and the keyings are then deleted: a keying left behind, even emptied, says which
    form became the one paper answer of its day (ADR 9)."""

    drawn = models.ForeignKey(Drawn, on_delete=models.CASCADE, related_name="paper_entries")
    clerk = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField()
    collector = models.CharField(max_length=16, choices=Collector.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drawn", "clerk"], name="one_entry_per_clerk"),
        ]

    def __str__(self) -> str:
        return f"{self.drawn_id} {self.clerk_id}"


class SurveyScore(models.Model):
    """The points an item got from the survey: computed under one rule version, with its inputs,
    and confirmed or overridden (with a reason) by the responsible department's assessor."""

    survey = models.ForeignKey(SurveyRound, on_delete=models.PROTECT, related_name="scores")
    enrollment = models.ForeignKey(
        "campaigns.Enrollment", on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(ItemRule, on_delete=models.PROTECT, related_name="+")
    inputs = models.JSONField()
    computed = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    points = models.DecimalField(max_digits=5, decimal_places=1)
    reason = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "enrollment", "rule"], name="one_survey_score_per_rule"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id} {self.points}"
