"""The score (ADR 17): what each assessor gave each item, the veto findings and lifts, the
disagreements the round's lead settled, and the stored result every reader reads.

The tables keep the names they had when these models lived in `assessments` and `results`."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicmark.accounts.models import User
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.standards.models import Item, VetoItem, points_field


class Score(models.Model):
    """What one assessor gave one item of one community in one round."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(AcceptanceRound, on_delete=models.CASCADE, related_name="scores")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="scores")
    points = points_field(_("points"), null=True, blank=True)
    # A per-occurrence item: the count the assessor entered; `points` follows from it.
    occurrences = models.PositiveIntegerField(_("occurrences"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    # Compare-and-set: a save that read version n succeeds only while the row is still at n, so
    # two assessors editing the same score never silently overwrite each other.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "assessments_score"
        constraints = [
            models.UniqueConstraint(
                fields=["round", "enrollment", "item", "assessor"], name="one_score_per_assessor"
            ),
            models.CheckConstraint(
                condition=models.Q(not_applicable=True, points__isnull=True)
                | models.Q(not_applicable=False, points__isnull=False),
                name="points_or_not_applicable",
            ),
        ]
        indexes = [
            models.Index(
                fields=["round", "enrollment", "item"], name="assessments_round_i_f82bdc_idx"
            ),
            # "Is any item of this round marked not applicable?" without reading the round.
            models.Index(
                fields=["round"], condition=models.Q(not_applicable=True), name="score_na_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.points}"


class VetoFinding(models.Model):
    """A department's word on a veto for a community in a round: found (the veto stands from this
    round on) or, with `lifts`, lifted (it stands no more from this round on). ADR 17."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        AcceptanceRound, on_delete=models.CASCADE, related_name="veto_findings"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="veto_findings"
    )
    veto = models.ForeignKey(VetoItem, on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="veto_findings")
    reason = models.TextField(_("finding"))
    lifts = models.BooleanField(_("lifts the veto"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "assessments_vetofinding"
        constraints = [
            models.UniqueConstraint(
                fields=["round", "enrollment", "veto", "assessor"], name="one_finding_per_assessor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.veto.code}: {self.reason[:40]}"


class SettlementSource(models.TextChoices):
    """Who set an item's value over its assessors' combination."""

    LEAD = "lead", _("the round's lead settled a disagreement")
    APPEAL = "appeal", _("a reviewer changed it on appeal")


class Settlement(models.Model):
    """The round lead's decision on an item its assessors disagree on, or a reviewer's decision
    on a community's appeal (`source`, ADR 20): it replaces their combined value for that
    community in that round (ADR 17)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(AcceptanceRound, on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    points = points_field(_("points"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    reason = models.TextField(_("reason"))
    settled_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    settled_at = models.DateTimeField(auto_now=True)
    source = models.CharField(
        _("settled by"),
        max_length=8,
        choices=SettlementSource.choices,
        default=SettlementSource.LEAD,
    )
    # The appeal that set it (its public id), when `source` is an appeal.
    appeal_ref = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "enrollment", "item"], name="one_settlement_per_item"
            ),
            models.CheckConstraint(
                condition=models.Q(not_applicable=True, points__isnull=True)
                | models.Q(not_applicable=False, points__isnull=False),
                name="settled_points_or_not_applicable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.points}"


class CommunityResult(models.Model):
    """A community's result in a round, kept current by every write that changes it (a score,
    a veto finding, an imported sheet, a settlement, the round's rule): what rankings,
    dashboards, the result page, the PDF and exports read, so that reading a province's round
    costs an indexed query, not a recomputation. `scoring.materialize` writes it; tests hold it
    equal to the reference rules."""

    round = models.ForeignKey(AcceptanceRound, on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+")
    total = models.DecimalField(max_digits=7, decimal_places=2)
    outcome = models.CharField(max_length=16)
    level = models.CharField(max_length=64, blank=True)
    # A standard unit that no gate bars from commendation.
    commendable = models.BooleanField(default=False)
    # Category code -> subtotal ("12.50"), in the standard's order.
    subtotals = models.JSONField(default=dict)
    below_minimum = models.JSONField(default=list)
    # [{"item": code, "effect": "veto" | "no_commendation" | "cap:LEVEL"}]: gates that tripped.
    gates = models.JSONField(default=list)
    # [{"code": veto code, "found_in_round": n}]: the vetoes that stand in this round.
    vetoes = models.JSONField(default=list)
    possible = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    # Scored or given a veto finding in this very round (not only carried over): such a
    # community stays covered whatever the workflow did with it since.
    assessed = models.BooleanField(default=False)
    # Department id -> items of that department scored in this round (for completion charts).
    scored = models.JSONField(default=dict)
    # The community's place in the whole round as of the campaign's last figures snapshot
    # (ADR 29): `rank` among the covered, ranked communities (ties share; null when not ranked),
    # `position` in the ranking's default order over every row of the round (ranked by total,
    # then vetoed, then incomplete; code breaks ties), so a page reads its 50 rows by index.
    # Written only by `results.snapshots` (a task, off-request); a recomputed row keeps its old
    # place until the next snapshot, which the pages say ("as of").
    rank = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(null=True, blank=True)
    # How many of the community's items its assessors disagree on in this round and the lead has
    # not settled (`scoring.disagreements.counts`, the one rule), kept current with the rest of
    # the row (ADR 7): the round page finds the first ones and their total by the partial index
    # below, not by grouping the round's scores (ADR 31). Finalising asks the rule live.
    disagreements = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "results_communityresult"
        constraints = [
            models.UniqueConstraint(fields=["round", "enrollment"], name="one_result_per_round")
        ]
        indexes = [
            models.Index(fields=["round", "outcome"], name="results_com_round_i_1de5d2_idx"),
            models.Index(fields=["round", "-total"], name="results_com_round_i_c5dc02_idx"),
            models.Index(fields=["round", "position"], name="result_round_position"),
            # The rows with open disagreements, in enrolment order, their count in the index.
            models.Index(
                fields=["round", "enrollment", "disagreements"],
                condition=models.Q(disagreements__gt=0),
                name="result_open_disagreements",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.total} {self.outcome}"


class RoundTally(models.Model):
    """What a round's page counts over all its communities, kept by `scoring.materialize` in the
    transaction that writes the rows it sums (ADR 31): the open disagreements of the whole round
    (the sum of `CommunityResult.disagreements`), so the page says how many without reading a
    province. A whole recomputation sets it; a partial one adds the difference it made."""

    round = models.OneToOneField(
        AcceptanceRound, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    disagreements = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.round_id}: {self.disagreements}"


class StaleResult(models.Model):
    """A community whose stored result in a round no longer matches its scores: written by the
    change (one cheap insert), cleared by the next read that recomputes it."""

    round = models.ForeignKey(AcceptanceRound, on_delete=models.CASCADE, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "results_staleresult"
        constraints = [
            models.UniqueConstraint(fields=["round", "enrollment"], name="one_stale_mark")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.enrollment_id}"
