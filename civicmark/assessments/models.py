"""Department scores and veto findings, per acceptance round."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core.models import StoredFileRecord
from civicmark.standards.models import Item, VetoItem, points_field


class SelfScore(models.Model):
    """The community's own score of an item, with a short explanation."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="self_scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    points = points_field(_("points"))
    explanation = models.TextField(_("explanation"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "item"], name="one_self_score")
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.points}"


class Evidence(StoredFileRecord):
    """A document the community offers as proof; one document may serve several items.

    Evidence is never replaced: a corrected document is a new row that `supersedes` the one
    before it, which stays stored and downloadable, so what a signed-off round judged can always
    be shown as it was judged."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="evidence")
    items = models.ManyToManyField(Item, related_name="+")
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("new version of"),
    )


class Transition(models.Model):
    """One step of an enrollment through the workflow: who, when, from, to, why."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=24)
    to_status = models.CharField(max_length=24)
    actor = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class RectificationStatus(models.TextChoices):
    # Its own context: a task's "Open" is 未开始 (not started), a finding still open is 待整改.
    OPEN = "open", pgettext_lazy("rectification", "Open")
    DONE = "done", _("Rectified")


def overdue_rectifications_q(today: dt.date) -> models.Q:
    """The one rule for an overdue rectification, whichever round found it: still open and its
    due date past. The to-do, the key figures, the list's town counts and its cards all ask this
    (or `Rectification.is_overdue`, its twin for one row in hand)."""
    return models.Q(status=RectificationStatus.OPEN, due_on__lt=today)


class Rectification(models.Model):
    """What a finalised round found wanting: an item that lost points, or a veto finding."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        AcceptanceRound, on_delete=models.CASCADE, related_name="rectifications"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="rectifications"
    )
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    veto = models.ForeignKey(
        VetoItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Two decimals, as every computed value (ADR 17): one decimal rounded 1.75 to 1.8 and 1.25
    # to 1.2 (half even) where the result page shows 1.75 and 1.25.
    points_lost = models.DecimalField(
        _("points lost"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"))
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
    )
    note = models.TextField(_("what was done"), blank=True)

    class Meta:
        ordering = ["enrollment__community__path", "item__order"]

    def __str__(self) -> str:
        # Neither item nor veto: a title's failed re-check (results/titles.py).
        subject = self.item.code if self.item else self.veto or _("re-check of the title")
        return f"{self.enrollment.community} {subject}"

    def is_overdue(self, today: dt.date) -> bool:
        """`overdue_rectifications_q` for one row."""
        return (
            self.status == RectificationStatus.OPEN
            and self.due_on is not None
            and self.due_on < today
        )


class RectificationEvidence(StoredFileRecord):
    """A document that shows a rectification was done: a photo, minutes, a new register."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="evidence"
    )


class ReturnComment(models.Model):
    """When the town or county returns a self-assessment, what must change on each item."""

    transition = models.ForeignKey(Transition, on_delete=models.CASCADE, related_name="comments")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"))

    class Meta:
        ordering = ["item__order"]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.comment[:40]}"


# --- The public notice before naming (公示, issue 17 item 5, ADR 22) ---------------------------

# Crockford's base32 without I, L, O, U: a reference read aloud on the telephone or typed from a
# note without confusion.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """Ten characters, 50 random bits: quoted by the objector, never guessed."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


class PublicNotice(models.Model):
    """The list of communities a finalised municipal round names standard units or proposes for
    commendation, published for a window of working days in which anyone may object. The
    window's dates are fixed when it is published: a later change to the calendar does not move
    a published window."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(AcceptanceRound, on_delete=models.PROTECT, related_name="notices")
    working_days = models.PositiveSmallIntegerField(_("working days"))
    opens_on = models.DateField(_("open from"))
    closes_on = models.DateField(_("open until"))  # the window's last day, included
    published_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_on", "-id"]

    def __str__(self) -> str:
        return f"{self.round} {self.opens_on}–{self.closes_on}"

    def is_open(self, today: dt.date) -> bool:
        return self.opens_on <= today <= self.closes_on


class ProposedFor(models.TextChoices):
    STANDARD = "standard", _("Named a standard unit")
    COMMENDATION = "commendation", _("Commended as an advanced unit")


class NoticeEntry(models.Model):
    """A community on a notice, with what it is proposed for and its total in the round. An
    upheld objection takes it off the list (`withdrawn_at`): the row stays, so the notice shows
    what was published and what became of it."""

    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE, related_name="entries")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="notice_entries"
    )
    proposed_for = models.CharField(_("proposed for"), max_length=16, choices=ProposedFor.choices)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enrollment__community__path"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "enrollment"], name="one_entry_per_notice")
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.community} ({self.proposed_for})"


class ObjectionDecision(models.TextChoices):
    PENDING = "", _("Awaiting the city's decision")
    DISMISSED = "dismissed", _("Dismissed: the naming stands")
    UPHELD = "upheld", _("Upheld: taken off the list")


class Objection(models.Model):
    """What someone objects to about one community on a notice. The contact is for the city
    alone: it is never shown on a public page nor written into the audit trail's summary."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=16, unique=True, default=new_reference)
    entry = models.ForeignKey(NoticeEntry, on_delete=models.PROTECT, related_name="objections")
    statement = models.TextField(_("statement"))
    name = models.CharField(_("your name"), max_length=60)
    contact = models.CharField(_("telephone or email"), max_length=120)
    received_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(
        _("decision"),
        max_length=12,
        choices=ObjectionDecision.choices,
        default=ObjectionDecision.PENDING,
        blank=True,
    )
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return self.reference
