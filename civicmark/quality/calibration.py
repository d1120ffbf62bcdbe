"""Assessor calibration (issue 17 item 2, ADR 20): who may do what, the writes, and the reads.

Only the round's lead (`authz.can_lead_round` over the whole round, and not tied to a community
it covers: `panels.lead_refusal`) opens, closes and sees an exercise and the round's drift; a
panel member scores only his own sheet, only while the exercise is open. Every write is one
service with its audit event in the same transaction. A sheet's points are checked by the one
validator of an entry (`scoring.validate`), so a calibration sheet refuses what a real card
refuses, in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.assessments import panels
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.divisions.models import Division
from civicmark.quality import stats
from civicmark.quality.models import CalibrationExercise, CalibrationScore
from civicmark.scoring import reader
from civicmark.scoring.validate import Invalid, validate
from civicmark.standards.models import Item, ItemKind

# Per-occurrence items are scored by a count on the real card; calibration compares points.
CALIBRATED_KINDS = (ItemKind.GRADED, ItemKind.ALL_OR_NOTHING, ItemKind.BONUS, ItemKind.PENALTY)


# --- who may --------------------------------------------------------------------------------


def lead_refusal(user: Any, round_: AcceptanceRound) -> str | None:
    """Why the person may not run calibration in this round (None: he leads it)."""
    if not authz.can_lead_round(user, round_):
        return _("Only the round's lead runs its calibration.")
    return panels.lead_refusal(user, round_)


def may_lead(user: Any, round_: AcceptanceRound) -> bool:
    return lead_refusal(user, round_) is None


def sheet_refusal(user: Any, exercise: CalibrationExercise) -> str | None:
    """Why the person may not score on this exercise (None: a member, and it is open)."""
    if not exercise.members.filter(pk=getattr(user, "pk", None) or 0).exists():
        return _("Only the exercise's panel members score its sheets, each his own.")
    if not exercise.is_open:
        return _("The calibration exercise is closed: sheets can no longer change.")
    return None


def calibratable_items(round_: AcceptanceRound) -> QuerySet[Item]:
    return round_.campaign.standard.items.filter(kind__in=CALIBRATED_KINDS).order_by(
        "order", "code"
    )


# --- writes ---------------------------------------------------------------------------------


def _scope(exercise_round: AcceptanceRound) -> str:
    return str(exercise_round.campaign.division.path)


def calibration_open(
    *,
    actor: Any,
    round_: AcceptanceRound,
    items: Iterable[Item],
    community: Division | None = None,
    evidence: str = "",
    via: str = "web",
) -> CalibrationExercise:
    """Open an exercise: the round's panel as it stands scores the reference on the items."""
    if refusal := lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    if round_.finalised_at is not None:
        raise ApplicationError(_("The round is finalised: calibrate before or during a round."))
    evidence = (evidence or "").strip()
    if community is None and not evidence:
        raise ApplicationError(_("Name a reference community or describe the evidence scored."))
    if (
        community is not None
        and not round_.campaign.enrollments.filter(community=community).exists()
    ):
        raise ApplicationError(_("The reference community must be one of the campaign's."))
    chosen = list(items)
    allowed = set(calibratable_items(round_).values_list("pk", flat=True))
    if not chosen or any(i.pk not in allowed for i in chosen):
        raise ApplicationError(_("Choose items of the campaign's standard scored by points."))
    members = list(panels.panel(round_))
    if len(members) < 2:
        raise ApplicationError(_("Calibration needs a panel of at least two assessors."))
    with transaction.atomic():
        exercise = CalibrationExercise.objects.create(
            round=round_,
            community=community,
            evidence=evidence,
            opened_by=actor if getattr(actor, "pk", None) else None,
        )
        exercise.items.set(chosen)
        exercise.members.set(members)
        audit.record(
            actor=actor,
            action="calibration.opened",
            object_type="calibration",
            object_ref=str(exercise.public_id),
            scope_path=_scope(round_),
            summary=f"{round_.campaign.slug} #{round_.number}: {exercise}",
            after={
                "round": round_.number,
                "community": community.code if community else None,
                "evidence": evidence,
                "items": [i.code for i in chosen],
                "members": [m.username for m in members],
            },
            via=via,
        )
    return exercise


def calibration_close(
    *, actor: Any, exercise: CalibrationExercise, via: str = "web"
) -> CalibrationExercise:
    """Close the exercise: the sheets are final and the figures stand as they are."""
    round_ = exercise.round
    if refusal := lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    with transaction.atomic():
        fresh = CalibrationExercise.objects.select_for_update().get(pk=exercise.pk)
        if not fresh.is_open:
            raise ApplicationError(_("The calibration exercise is already closed."))
        fresh.closed_at = timezone.now()
        fresh.closed_by = actor if getattr(actor, "pk", None) else None
        fresh.save(update_fields=["closed_at", "closed_by"])
        audit.record(
            actor=actor,
            action="calibration.closed",
            object_type="calibration",
            object_ref=str(fresh.public_id),
            scope_path=_scope(round_),
            summary=f"{round_.campaign.slug} #{round_.number}: {fresh}",
            after={"sheets": CalibrationScore.objects.filter(exercise=fresh).count()},
            via=via,
        )
    exercise.closed_at, exercise.closed_by = fresh.closed_at, fresh.closed_by
    return exercise


@dataclass(frozen=True)
class SheetEntry:
    item: Item
    points: Decimal | None
    reason: str = ""


class SheetErrors(ApplicationError):
    """Entries the validator refused, by item id: nothing was saved."""

    def __init__(self, errors: dict[int, Invalid]) -> None:
        super().__init__(_("Nothing was saved: correct the items marked below."))
        self.errors = errors


def calibration_sheet_save(
    *, actor: Any, exercise: CalibrationExercise, entries: list[SheetEntry], via: str = "web"
) -> list[CalibrationScore]:
    """Save the member's own entries, all or none; one audit event lists what changed."""
    if refusal := sheet_refusal(actor, exercise):
        raise NotAllowed(refusal)
    items = set(exercise.items.values_list("pk", flat=True))
    errors: dict[int, Invalid] = {}
    clean: list[tuple[Item, Decimal, str]] = []
    for entry in entries:
        if entry.item.pk not in items:
            raise ApplicationError(_("That item is not part of this exercise."))
        try:
            points, _count = validate(entry.item, points=entry.points, reason=entry.reason)
        except Invalid as exc:
            errors[entry.item.pk] = exc
            continue
        assert points is not None  # not applicable is not offered on a calibration sheet
        clean.append((entry.item, points, entry.reason.strip()))
    if errors:
        raise SheetErrors(errors)
    with transaction.atomic():
        fresh = CalibrationExercise.objects.select_for_update().get(pk=exercise.pk)
        if not fresh.is_open:  # closed while the sheet was being filled in
            raise NotAllowed(_("The calibration exercise is closed: sheets can no longer change."))
        stored = {
            s.item_id: s for s in CalibrationScore.objects.filter(exercise=fresh, assessor=actor)
        }
        before: dict[str, str] = {}
        after: dict[str, str] = {}
        saved = []
        for item, points, reason in clean:
            old = stored.get(item.pk)
            if old is not None and old.points == points and old.reason == reason:
                saved.append(old)
                continue
            if old is None:
                old = CalibrationScore(exercise=fresh, assessor=actor, item=item)
            else:
                before[item.code] = str(old.points)
            old.points, old.reason = points, reason
            old.save()
            after[item.code] = str(points)
            saved.append(old)
        if after:
            audit.record(
                actor=actor,
                action="calibration.scored",
                object_type="calibration",
                object_ref=str(fresh.public_id),
                scope_path=_scope(fresh.round),
                summary=", ".join(f"{code}: {p}" for code, p in after.items()),
                before=before or None,
                after=after,
                via=via,
            )
    return saved


# --- reads ----------------------------------------------------------------------------------


def exercises_led(user: Any, round_: AcceptanceRound) -> QuerySet[CalibrationExercise]:
    """The round's exercises, for its lead only (anyone else: none)."""
    if not may_lead(user, round_):
        return CalibrationExercise.objects.none()
    return round_.calibrations.select_related("community").prefetch_related("members")


def sheets_to_score(user: Any, round_: AcceptanceRound) -> QuerySet[CalibrationExercise]:
    """The open exercises of the round on which the person sits."""
    return round_.calibrations.filter(members__pk=getattr(user, "pk", None) or 0, closed_at=None)


@dataclass
class ItemRow:
    item: Item
    given: list[tuple[User, Decimal | None]]  # each member and his points, in panel order
    median: Decimal | None
    mad: Decimal | None
    signed: Decimal | None
    loose: bool  # the panel's MAD on the item above the outlier floor of its maximum


@dataclass
class AssessorRow:
    assessor: User
    scored: int
    mad: Decimal | None
    signed: Decimal | None
    share: Decimal | None  # MAD as a share of each item's maximum, in percent
    outlier: bool


@dataclass
class Calibration:
    """What the lead's page shows: per item, per assessor, alpha and the outliers named."""

    exercise: CalibrationExercise
    members: list[User]
    items: list[ItemRow]
    assessors: list[AssessorRow]
    alpha: Decimal | None
    outliers: list[User] = field(default_factory=list)
    complete: int = 0  # members whose sheet has every item


def calibration_figures(exercise: CalibrationExercise) -> Calibration:
    """The exercise's agreement from its sheets (stats on shares of each item's maximum for
    alpha and the outliers, in points for the deviations the lead reads)."""
    members = list(exercise.members.order_by("username"))
    items = list(exercise.items.order_by("order", "code"))
    points: dict[int, dict[int, Decimal]] = {i.pk: {} for i in items}
    for s in CalibrationScore.objects.filter(exercise=exercise):
        if s.item_id in points:
            points[s.item_id][s.assessor_id] = s.points
    maxima = {
        i.pk: abs(i.floor) if i.kind == ItemKind.PENALTY and i.floor else i.points for i in items
    }
    agreement = stats.deviations(points, maxima)
    shares: dict[int, dict[int, Fraction]] = {
        pk: {a: Fraction(v) / Fraction(maxima[pk]) for a, v in row.items()}
        for pk, row in points.items()
        if maxima[pk]
    }
    named = stats.outliers(dict(agreement.shares))
    by_id = {m.pk: m for m in members}
    item_rows = []
    for item in items:
        dev = agreement.items.get(item.pk)
        item_rows.append(
            ItemRow(
                item=item,
                given=[(m, points[item.pk].get(m.pk)) for m in members],
                median=stats.shown(agreement.medians.get(item.pk)),
                mad=stats.shown(dev.mad) if dev else None,
                signed=stats.shown(dev.signed) if dev else None,
                loose=bool(
                    dev
                    and maxima[item.pk]
                    and dev.mad / Fraction(maxima[item.pk]) > stats.OUTLIER_FLOOR
                ),
            )
        )
    assessor_rows = []
    for member in members:
        dev = agreement.assessors.get(member.pk)
        share = agreement.shares.get(member.pk)
        assessor_rows.append(
            AssessorRow(
                assessor=member,
                scored=sum(1 for row in points.values() if member.pk in row),
                mad=stats.shown(dev.mad) if dev else None,
                signed=stats.shown(dev.signed) if dev else None,
                share=stats.shown(share * 100, 1) if share is not None else None,
                outlier=member.pk in named,
            )
        )
    return Calibration(
        exercise=exercise,
        members=members,
        items=item_rows,
        assessors=assessor_rows,
        alpha=stats.shown(stats.alpha(shares), 3),
        outliers=[by_id[int(str(a))] for a in named],
        complete=sum(1 for r in assessor_rows if r.scored == len(items)),
    )


@dataclass
class DriftRow:
    assessor: User
    n: int
    mean: Decimal
    few: bool


def round_drift(round_: AcceptanceRound) -> list[DriftRow]:
    """Each assessor of the round against his peers on the community-items they both scored
    (the round's own scores as `scoring.reader` reads them; not-applicable left out), the
    harshest first."""
    cells = reader.points_by_assessor(round_)
    found = stats.drift(cells)
    people = {u.pk: u for u in User.objects.filter(pk__in=found.keys())}
    rows = [
        DriftRow(assessor=people[a], n=d.n, mean=stats.shown(d.mean) or Decimal(0), few=d.few)
        for a, d in found.items()
    ]
    rows.sort(key=lambda r: (r.mean, r.assessor.username))
    return rows
