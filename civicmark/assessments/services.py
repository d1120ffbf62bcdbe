"""Writing scores: permission, validation, a version check against lost updates, the audit event."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments.models import Score, SelfScore, VetoFinding
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.standards.models import Item

HALF = Decimal("0.5")


class Conflict(ApplicationError):
    code = "conflict"


def _check(points: Decimal | None, not_applicable: bool, reason: str, item: Item) -> None:
    if not_applicable:
        if points is not None:
            raise ApplicationError(_("An item marked not applicable has no points."))
        if not reason.strip():
            raise ApplicationError(_("Say why the item does not apply."))
        return
    if points is None:
        raise ApplicationError(_("Give the points, or mark the item not applicable."))
    if not (0 <= points <= item.points) or points % HALF:
        raise ApplicationError(
            _("Points for %(code)s go from 0 to %(max)s in steps of 0.5.")
            % {"code": item.code, "max": item.points}
        )
    if points < item.points and not reason.strip():
        raise ApplicationError(_("Say why points were deducted."))


def score_save(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    item: Item,
    points: Decimal | None,
    not_applicable: bool = False,
    reason: str = "",
    expected_version: int | None = None,
    via: str = "web",
) -> Score:
    """Record what one assessor gave one item. `expected_version` is the version the assessor saw
    (None for a first score); if someone saved in between, Conflict is raised and nothing changes."""
    if (
        enrollment.campaign_id != round_.campaign_id
        or item.standard_id != round_.campaign.standard_id
    ):
        raise ApplicationError(_("That item or community is not part of this round."))
    if round_.finalised_at is not None:
        raise ApplicationError(_("The round is finalised: its scores are locked."))
    if not authz.can_score(actor, enrollment.community, item.department_id):
        raise NotAllowed(
            _("You may not score %(item)s for %(community)s.")
            % {"item": item.code, "community": enrollment.community.name}
        )
    _check(points, not_applicable, reason, item)
    values = {
        "points": None if not_applicable else points,
        "not_applicable": not_applicable,
        "reason": reason.strip(),
    }
    with transaction.atomic():
        if expected_version is None:
            try:
                with transaction.atomic():
                    score = Score.objects.create(
                        round=round_, enrollment=enrollment, item=item, assessor=actor, **values
                    )
            except IntegrityError:
                raise Conflict(
                    _("You have already scored this item; reload and change that score.")
                ) from None
            before = None
        else:
            found = Score.objects.filter(
                round=round_, enrollment=enrollment, item=item, assessor=actor
            ).first()
            if found is None:
                raise Conflict(_("This score no longer exists; reload it."))
            score = found
            before = {
                "points": str(score.points),
                "not_applicable": score.not_applicable,
                "reason": score.reason,
            }
            updated = Score.objects.filter(pk=score.pk, version=expected_version).update(
                version=expected_version + 1, **values
            )
            if not updated:
                raise Conflict(
                    _("This score was changed by someone else since you opened it; reload it.")
                )
            score.refresh_from_db()
        audit.record(
            actor=actor,
            via=via,
            action="score.saved",
            object_type="score",
            object_ref=str(score.public_id),
            scope_path=enrollment.community.path,
            summary=f"{item.code} {enrollment.community.name}",
            before=before,
            after={
                "points": str(score.points),
                "not_applicable": not_applicable,
                "reason": score.reason,
                "round": round_.number,
            },
        )
    return score


SELF_ASSESSABLE = ("enrolled", "self_assessing", "returned")


def self_score_save(
    *, actor: Any, enrollment: Enrollment, item: Item, points: Decimal, explanation: str = ""
) -> None:
    """The community scores itself, item by item, until it submits."""
    community = enrollment.community
    if not (authz.is_community_staff(actor, community) or authz.is_super(actor)):
        raise NotAllowed(_("Only the community's own staff score its self-assessment."))
    if item.standard_id != enrollment.campaign.standard_id:
        raise ApplicationError(_("That item is not in this campaign's standard."))
    if not (0 <= points <= item.points) or points % HALF:
        raise ApplicationError(
            _("Points for %(code)s go from 0 to %(max)s in steps of 0.5.")
            % {"code": item.code, "max": item.points}
        )
    with transaction.atomic():
        # Read the status under a lock: a submission in between closes the self-assessment.
        current = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if current.status not in SELF_ASSESSABLE:
            raise ApplicationError(
                _("The self-assessment was submitted; it can change only if it is returned.")
            )
        SelfScore.objects.update_or_create(
            enrollment=enrollment,
            item=item,
            defaults={"points": points, "explanation": explanation.strip()},
        )
        audit.record(
            actor=actor,
            action="self_score.saved",
            object_type="enrollment",
            object_ref=f"{enrollment.campaign.slug}/{community.code}",
            scope_path=community.path,
            summary=item.code,
            after={"points": str(points), "explanation": explanation.strip()},
        )


def veto_finding_record(
    *, actor: Any, round_: AcceptanceRound, enrollment: Enrollment, veto: Any, reason: str
) -> VetoFinding:
    """An assessor records that a one-vote veto condition of his department occurred."""
    if (
        enrollment.campaign_id != round_.campaign_id
        or veto.standard_id != round_.campaign.standard_id
    ):
        raise ApplicationError(_("That veto or community is not part of this round."))
    if round_.finalised_at is not None:
        raise ApplicationError(_("The round is finalised: its scores are locked."))
    if not authz.can_score(actor, enrollment.community, veto.department_id):
        raise NotAllowed(_("Only an assessor of the responsible department records this veto."))
    if not reason.strip():
        raise ApplicationError(_("Describe the finding that brings the veto."))
    with transaction.atomic():
        finding, created = VetoFinding.objects.get_or_create(
            round=round_,
            enrollment=enrollment,
            veto=veto,
            assessor=actor,
            defaults={"reason": reason.strip()},
        )
        if not created:
            raise ApplicationError(_("You have already recorded this veto for this community."))
        audit.record(
            actor=actor,
            action="veto.recorded",
            object_type="enrollment",
            object_ref=f"{round_.campaign.slug}/{enrollment.community.code}",
            scope_path=enrollment.community.path,
            summary=veto.code,
            after={"veto": veto.code, "reason": finding.reason, "round": round_.number},
        )
    return finding


def round_finalise(*, actor: Any, round_: AcceptanceRound) -> AcceptanceRound:
    """Sign off a round: only when every applicable item of every community it covers is scored."""
    from django.utils import timezone

    from civicmark.results.rounds import round_results
    from civicmark.results.scoring import Outcome

    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the round's lead office may finalise it."))
    if round_.finalised_at is not None:
        raise ApplicationError(_("The round is already finalised."))
    covered = set(Score.objects.filter(round=round_).values_list("enrollment", flat=True))
    results = round_results(round_)
    open_ = [
        e.community.name
        for e in round_.campaign.enrollments.select_related("community")
        if e.pk in covered and results[e.pk].outcome == Outcome.INCOMPLETE
    ]
    if open_ or not covered:
        raise ApplicationError(_("Items are still unscored for: %s.") % (", ".join(open_) or "—"))
    with transaction.atomic():
        round_.finalised_at = timezone.now()
        round_.save(update_fields=["finalised_at"])
        created = _rectifications_for(round_, results, covered)
        audit.record(
            actor=actor,
            action="round.finalised",
            object_type="round",
            object_ref=f"{round_.campaign.slug}/{round_.number}",
            scope_path=round_.campaign.division.path,
            summary=round_.name,
            after={"communities": len(covered), "rectifications": created},
        )
    return round_


def _rectifications_for(round_: AcceptanceRound, results: dict[int, Any], covered: set[int]) -> int:
    """Every item that lost points and every veto finding becomes a task to rectify before the
    next round (reopening and finalising again does not duplicate them)."""
    from datetime import timedelta

    from civicmark.assessments.models import Rectification

    following = round_.campaign.rounds.filter(number__gt=round_.number).order_by("number").first()
    due = following.opens_on - timedelta(days=1) if following else None
    items = {i.code: i for i in round_.campaign.standard.items.all()}
    reasons: dict[tuple[int, int], str] = {}
    for s in Score.objects.filter(round=round_).exclude(reason="").order_by("id"):
        reasons.setdefault((s.enrollment_id, s.item_id), s.reason)
    existing = set(
        Rectification.objects.filter(round=round_).values_list("enrollment", "item", "veto")
    )
    new = []
    for enrollment_id in covered:
        for code, lost in results[enrollment_id].lost:
            item = items[code]
            if (enrollment_id, item.pk, None) not in existing:
                new.append(
                    Rectification(
                        round=round_,
                        enrollment_id=enrollment_id,
                        item=item,
                        points_lost=lost,
                        reason=reasons.get((enrollment_id, item.pk), ""),
                        due_on=due,
                    )
                )
    for finding in VetoFinding.objects.filter(round=round_):
        if (finding.enrollment_id, None, finding.veto_id) not in existing:
            new.append(
                Rectification(
                    round=round_,
                    enrollment_id=finding.enrollment_id,
                    veto_id=finding.veto_id,
                    reason=finding.reason,
                    due_on=due,
                )
            )
    Rectification.objects.bulk_create(new)
    return len(new)


def round_reopen(*, actor: Any, round_: AcceptanceRound, reason: str) -> AcceptanceRound:
    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the round's lead office may reopen it."))
    if round_.finalised_at is None:
        raise ApplicationError(_("The round is not finalised."))
    if not reason.strip():
        raise ApplicationError(_("Say why the round is reopened."))
    with transaction.atomic():
        before = {"finalised_at": round_.finalised_at.isoformat()}
        round_.finalised_at = None
        round_.save(update_fields=["finalised_at"])
        audit.record(
            actor=actor,
            action="round.reopened",
            object_type="round",
            object_ref=f"{round_.campaign.slug}/{round_.number}",
            scope_path=round_.campaign.division.path,
            summary=reason.strip()[:255],
            before=before,
            after={"reason": reason.strip()},
        )
    return round_


def rectification_update(*, actor: Any, rectification: Any, status: str, note: str) -> Any:
    """The community reports what it fixed; the town (or anyone above) may do the same."""
    from civicmark.assessments.models import RectificationStatus

    community = rectification.enrollment.community
    if not (
        authz.is_community_staff(actor, community) or authz.can_change_division(actor, community)
    ):
        raise NotAllowed(_("You may not update this rectification."))
    if status not in RectificationStatus.values:
        raise ApplicationError(_("Unknown status %s.") % status)
    if status == RectificationStatus.DONE and not note.strip():
        raise ApplicationError(_("Say what was done to rectify it."))
    with transaction.atomic():
        before = {"status": rectification.status, "note": rectification.note}
        rectification.status, rectification.note = status, note.strip()
        rectification.save(update_fields=["status", "note"])
        audit.record(
            actor=actor,
            action="rectification.updated",
            object_type="enrollment",
            object_ref=str(rectification.public_id),
            scope_path=community.path,
            summary=str(rectification),
            before=before,
            after={"status": status, "note": note.strip()},
        )
    return rectification


def evidence_attach(*, actor: Any, enrollment: Enrollment, items: list[Item], upload: Any) -> Any:
    """Store one document for the given items of the community's self-assessment."""
    from civicmark.assessments.models import Evidence
    from civicmark.core.files import store_upload

    community = enrollment.community
    if not authz.is_community_staff(actor, community):
        raise NotAllowed(_("Only the community's own staff add its evidence."))
    if not items or any(i.standard_id != enrollment.campaign.standard_id for i in items):
        raise ApplicationError(_("Choose the items this document proves."))
    stored = store_upload(upload, folder=f"evidence/{enrollment.campaign.slug}/{community.code}")
    with transaction.atomic():
        evidence = Evidence.objects.create(
            enrollment=enrollment,
            uploaded_by=actor,
            **stored.fields(),
        )
        evidence.items.set(items)
        audit.record(
            actor=actor,
            action="evidence.added",
            object_type="enrollment",
            object_ref=f"{enrollment.campaign.slug}/{community.code}",
            scope_path=community.path,
            summary=stored.name,
            after={"sha256": stored.sha256, "items": [i.code for i in items]},
        )
    return evidence
