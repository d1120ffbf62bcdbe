"""Certificates: issued for the standard units of a finalised municipal round, revoked with a
reason; each write is audited in its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import notice, panels
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.results.models import Certificate, RecheckStatus
from civicmark.scoring import reader
from civicmark.scoring.rules import Outcome

TITLED = ("standard_unit", "proposed", "commended")


def _due(round_: AcceptanceRound) -> tuple[dict[int, Any], list[Enrollment]]:
    """The round's stored results, and the communities due a certificate from it: covered,
    held as titled by the workflow, found a standard unit, with no standing certificate and no
    withdrawn title."""
    results = {r.enrollment_id: r for r in reader.stored(round_)}
    standing = set(
        Certificate.objects.filter(
            enrollment__campaign=round_.campaign, revoked_at__isnull=True
        ).values_list("enrollment", flat=True)
    )
    # A title withdrawn under dynamic management (results/titles.py) is not given again by
    # issuing the round once more; a certificate revoked for an error is (corrected).
    withdrawn = Certificate.objects.filter(
        enrollment__campaign=round_.campaign, withdrawn=True
    ).values("enrollment")
    enrollments = (
        panels.covered(round_)
        .filter(status__in=TITLED)
        .exclude(pk__in=standing)
        .exclude(pk__in=withdrawn)
        .select_related("community")
    )
    due = [e for e in enrollments if e.pk in results and results[e.pk].outcome == Outcome.STANDARD]
    return results, due


def certificates_waiting(round_: AcceptanceRound) -> list[tuple[Enrollment, str]]:
    """The communities due a certificate whose naming is not final yet, and why (ADR 22): what
    the certificates page lists under its button."""
    if round_.level != "city" or round_.finalised_at is None:
        return []
    return [
        (e, reason) for e in _due(round_)[1] if (reason := notice.naming_refusal(e, round_=round_))
    ]


def certificates_issue(*, actor: Any, round_: AcceptanceRound, via: str = "web") -> int:
    """A certificate for every community the finalised municipal round found a standard unit and
    the workflow holds as one, once its naming is final: its public notice closed and every
    objection to it decided (`notice.naming_refusal`, ADR 22); the others wait, and when none
    can be issued the refusal names each and until when (idempotent: a community with a
    standing certificate is skipped). A commended community's certificate names the highest
    level."""
    if round_.level != "city":
        raise ApplicationError(_("Certificates follow a municipal round, not the pre-acceptance."))
    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the municipal office issues certificates."))
    if refusal := panels.lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    if round_.finalised_at is None:
        raise ApplicationError(_("Finalise the round before issuing its certificates."))
    results, enrollments = _due(round_)
    top = (
        round_.campaign.standard.levels.filter(passing=True).order_by("-min_score").first()
    )  # a band below the pass mark names no title
    awarded_on = timezone.localdate(round_.finalised_at)
    new = []
    waiting = []
    for e in enrollments:
        result = results[e.pk]
        # A naming is final only after its public notice (ADR 22); the others wait for it.
        if reason := notice.naming_refusal(e, round_=round_):
            waiting.append(f"{e.community.name}: {reason}")
            continue
        level = (
            top.name if e.status == "commended" and top else (result.level or _("Standard unit"))
        )
        new.append(
            Certificate(
                enrollment=e,
                round=round_,
                level=level,
                total=result.total,
                awarded_on=awarded_on,
                issued_by=actor if getattr(actor, "pk", None) else None,
            )
        )
    if waiting and not new:
        raise ApplicationError(_("No certificate can be issued yet: %s.") % "; ".join(waiting))
    with transaction.atomic():
        Certificate.objects.bulk_create(new)
        if new:
            audit.record(
                actor=actor,
                via=via,
                action="certificates.issued",
                object_type="round",
                object_ref=f"{round_.campaign.slug}/{round_.number}",
                scope_path=round_.campaign.division.path,
                summary=f"{len(new)}",
                after={c.enrollment.community.code: c.level for c in new},
            )
    return len(new)


def certificate_revoke(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    if not authz.can_lead_round(actor, certificate.round):
        raise NotAllowed(_("Only the municipal office revokes certificates."))
    if refusal := panels.lead_refusal(actor, certificate.round):
        raise NotAllowed(refusal)
    if certificate.revoked_at is not None:
        raise ApplicationError(_("The certificate is already revoked."))
    if not reason.strip():
        raise ApplicationError(_("Say why the certificate is revoked."))
    with transaction.atomic():
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason.strip()
        certificate.save(update_fields=["revoked_at", "revoked_reason"])
        audit.record(
            actor=actor,
            action="certificate.revoked",
            object_type="certificate",
            object_ref=certificate.code,
            scope_path=certificate.enrollment.community.path,
            summary=reason.strip()[:255],
            before={"stands": True},
            after={"stands": False, "reason": reason.strip()},
        )
    return certificate


def certificate_follow(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    reason: str,
    appeal_ref: str,
    via: str = "web",
) -> tuple[Certificate | None, Certificate | None]:
    """After an appeal's decision changed the community's result in a municipal round whose
    certificates were issued: the certificate follows the stored result. One that no longer
    matches it (the total, the title, or no title at all) is revoked with the decision's reason;
    the corrected one, or one the community now earns, is issued. Returns (revoked, issued).
    The appeal service (`quality.appeals`), which checked its reviewer, alone calls it, in its
    own transaction; a round whose certificates the city has not issued is left to it."""
    if round_.level != "city" or round_.finalised_at is None:
        return None, None
    if not Certificate.objects.filter(round=round_).exists():
        return None, None
    result = reader.stored(round_, [enrollment.pk]).first()
    standing = Certificate.objects.filter(
        enrollment=enrollment, round=round_, revoked_at__isnull=True
    ).first()
    if (
        standing is None
        and Certificate.objects.filter(enrollment=enrollment, revoked_at__isnull=True).exists()
    ):
        return None, None  # a later round's certificate stands: that round speaks now
    # A title the appeal newly gives still waits for its public notice (ADR 22): the old
    # certificate is revoked now, the new one issued by the city once the naming is final.
    # A title withdrawn under dynamic management (results/titles.py) is not given back by an
    # appeal decided after it, as `_due` keeps it from the round's issuing.
    earns = (
        result is not None
        and result.outcome == Outcome.STANDARD
        and enrollment.status in TITLED
        and notice.naming_refusal(enrollment, round_=round_) is None
        and not Certificate.objects.filter(enrollment=enrollment, withdrawn=True).exists()
    )
    level = ""
    if earns and result is not None:
        top = round_.campaign.standard.levels.filter(passing=True).order_by("-min_score").first()
        commended = enrollment.status == "commended" and top is not None
        level = top.name if commended and top else (result.level or _("Standard unit"))
    if standing is None and not earns:
        return None, None  # nothing stands and nothing is earned yet (its notice comes first)
    if (
        standing is not None
        and earns
        and result is not None
        and (standing.total, standing.level) == (result.total, level)
    ):
        return None, None  # it still says what the result says
    revoked = issued = None
    with transaction.atomic():
        if standing is not None:
            standing.revoked_at = timezone.now()
            standing.revoked_reason = reason.strip()
            standing.save(update_fields=["revoked_at", "revoked_reason"])
            revoked = standing
        if earns and result is not None:
            issued = Certificate.objects.create(
                enrollment=enrollment,
                round=round_,
                level=level,
                total=result.total,
                awarded_on=timezone.localdate(),
                issued_by=actor if getattr(actor, "pk", None) else None,
            )
        moved: list[str] = []
        if revoked is not None and issued is not None:
            # The title is the same, corrected: a re-check still open on it follows it to the
            # corrected certificate (left on the revoked one it would close, and a failing
            # community would escape its withdrawal through a one-point appeal).
            still_open = revoked.rechecks.exclude(
                status__in=(RecheckStatus.PASSED, RecheckStatus.WITHDRAWN)
            )
            moved = [str(r.public_id) for r in still_open]
            still_open.update(certificate=issued)
        audit.record(
            actor=actor,
            via=via,
            action="certificate.appeal_followed",
            object_type="certificate",
            object_ref=next((c.code for c in (issued, revoked) if c is not None), ""),
            scope_path=enrollment.community.path,
            summary=reason.strip()[:255],
            before={"stands": True, "code": revoked.code, "total": str(revoked.total)}
            if revoked
            else None,
            after={
                "reason": reason.strip(),
                "appeal": appeal_ref,
                "code": issued.code if issued else None,
                "total": str(issued.total) if issued else None,
                "level": issued.level if issued else None,
                **({"rechecks": moved} if moved else {}),
            },
        )
    return revoked, issued
