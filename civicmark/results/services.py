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
from civicmark.results.models import Certificate
from civicmark.scoring import reader
from civicmark.scoring.rules import Outcome

TITLED = ("standard_unit", "proposed", "commended")


def _due(round_: AcceptanceRound) -> tuple[dict[int, Any], list[Enrollment]]:
    """The round's stored results, and the communities due a certificate from it: covered,
    held as titled by the workflow, found a standard unit, with no standing certificate."""
    results = {r.enrollment_id: r for r in reader.stored(round_)}
    standing = set(
        Certificate.objects.filter(
            enrollment__campaign=round_.campaign, revoked_at__isnull=True
        ).values_list("enrollment", flat=True)
    )
    enrollments = (
        panels.covered(round_)
        .filter(status__in=TITLED)
        .exclude(pk__in=standing)
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
