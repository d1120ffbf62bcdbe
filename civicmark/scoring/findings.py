"""Recording, lifting and withdrawing vetoes (ADR 17).

A department's assessor records that a one-vote veto condition occurred (a finding): the veto
then stands in this round and every later round of the campaign. In a later round that covers
the community, an assessor of the veto's department lifts it, saying why. Within one round a
finding and a lift of the same veto cannot both be recorded: a finding of the current round is
withdrawn by the one who recorded it instead of being lifted.

Who may write is decided by the caller's `access` object (in `assessments`, as for the writer of
scores): this module imports no workflow app. Every change writes its audit event and marks the
community's stored results stale (this round and later ones) in one transaction.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import transaction
from django.utils.translation import gettext as _

from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.scoring import vetoes
from civicmark.scoring.models import VetoFinding
from civicmark.scoring.writer import Sealed

# A finding or a lift is a few sentences; a pasted document is refused, not cut.
MAX_REASON = 2000


class VetoAccess(Protocol):
    """Who may record a veto, answered by the workflow (assessments.access)."""

    def veto_refusal(self, actor: Any, round_: Any, enrollment: Any, veto: Any) -> str | None: ...

    def sealed(self, round_: Any, enrollment: Any) -> bool: ...

    def hold(self, round_: Any) -> None: ...


def _reason(reason: str, lifts: bool) -> str:
    text = (reason or "").strip()
    if not text:
        raise ApplicationError(
            _("Say why the veto is lifted.")
            if lifts
            else _("Describe the finding that brings the veto."),
            code="veto_reason_missing",
        )
    if len(text) > MAX_REASON:
        raise ApplicationError(
            _("The text is %(n)d characters long; at most %(max)d are kept.")
            % {"n": len(text), "max": MAX_REASON},
            code="veto_reason_long",
        )
    return text


def _allowed(access: VetoAccess, actor: Any, round_: Any, enrollment: Any, veto: Any) -> None:
    if enrollment.campaign_id != round_.campaign_id or veto.standard_id != getattr(
        round_.campaign, "standard_id", None
    ):
        raise ApplicationError(_("That veto or community is not part of this round."))
    if access.sealed(round_, enrollment):
        raise Sealed(_("The round is finalised: its scores are locked."))
    refusal = access.veto_refusal(actor, round_, enrollment, veto)
    if refusal:
        raise NotAllowed(refusal)


def _status(round_: Any, enrollment: Any, veto: Any) -> vetoes.VetoStatus | None:
    for status in vetoes.statuses(round_, [enrollment.pk]).get(enrollment.pk, []):
        if status.veto_id == veto.pk:
            return status
    return None


def _record_event(
    actor: Any, action: str, round_: Any, enrollment: Any, veto: Any, reason: str, via: str
) -> None:
    audit.record(
        actor=actor,
        action=action,
        object_type="enrollment",
        object_ref=f"{round_.campaign.slug}/{enrollment.community.code}",
        scope_path=enrollment.community.path,
        summary=veto.code,
        after={"veto": veto.code, "reason": reason, "round": round_.number},
        via=via,
    )


def _mark(round_: Any, enrollment: Any) -> None:
    from civicmark.scoring.materialize import mark

    mark(round_, [enrollment.pk])


def veto_record(
    *,
    actor: Any,
    round_: Any,
    enrollment: Any,
    veto: Any,
    reason: str,
    lifts: bool = False,
    access: VetoAccess,
    via: str = "web",
) -> VetoFinding:
    """Record a finding of `veto` for the community in this round, or (`lifts`) lift the veto
    that stands from an earlier round. The reason is required for both."""
    text = _reason(reason, lifts)
    _allowed(access, actor, round_, enrollment, veto)
    with transaction.atomic():
        access.hold(round_)
        if access.sealed(round_, enrollment):
            raise Sealed(_("The round is finalised: its scores are locked."))
        # The community's row orders two writers of its vetoes: the state read next holds.
        type(enrollment).objects.select_for_update().filter(pk=enrollment.pk).first()
        status = _status(round_, enrollment, veto)
        here = VetoFinding.objects.filter(round=round_, enrollment=enrollment, veto=veto)
        if lifts:
            if status is None or not status.stands:
                raise ApplicationError(
                    _("%(veto)s does not stand for %(community)s: there is nothing to lift.")
                    % {"veto": veto.code, "community": enrollment.community.name},
                    code="veto_not_standing",
                )
            if status.state == vetoes.VetoState.FOUND:
                raise ApplicationError(
                    _(
                        "%(veto)s was found in this round: it is not lifted but withdrawn by "
                        "the one who recorded it."
                    )
                    % {"veto": veto.code},
                    code="veto_found_here",
                )
        else:
            if here.filter(lifts=True).exists():
                raise ApplicationError(
                    _("%(veto)s was lifted in this round: withdraw the lift first.")
                    % {"veto": veto.code},
                    code="veto_lifted_here",
                )
            if status is not None and status.state == vetoes.VetoState.STANDING:
                raise ApplicationError(
                    _("%(veto)s already stands for %(community)s, found in round %(round)d.")
                    % {
                        "veto": veto.code,
                        "community": enrollment.community.name,
                        "round": status.found_in_round,
                    },
                    code="veto_stands",
                )
        if here.filter(assessor=actor).exists():
            raise ApplicationError(_("You have already recorded this veto for this community."))
        finding = VetoFinding.objects.create(
            round=round_,
            enrollment=enrollment,
            veto=veto,
            assessor=actor,
            reason=text,
            lifts=lifts,
        )
        _record_event(
            actor,
            "veto.lifted" if lifts else "veto.recorded",
            round_,
            enrollment,
            veto,
            text,
            via,
        )
        _mark(round_, enrollment)
    return finding


def veto_withdraw(
    *, actor: Any, finding: VetoFinding, access: VetoAccess, via: str = "web"
) -> None:
    """Withdraw one's own finding (or lift) of the current, open round."""
    round_, enrollment, veto = finding.round, finding.enrollment, finding.veto
    if finding.assessor_id != getattr(actor, "pk", None):
        raise NotAllowed(_("Only the one who recorded it may withdraw it."))
    _allowed(access, actor, round_, enrollment, veto)
    with transaction.atomic():
        access.hold(round_)
        if access.sealed(round_, enrollment):
            raise Sealed(_("The round is finalised: its scores are locked."))
        gone, _n = VetoFinding.objects.filter(pk=finding.pk, assessor=actor).delete()
        if not gone:
            raise ApplicationError(_("That finding was already withdrawn."))
        audit.record(
            actor=actor,
            action="veto.withdrawn",
            object_type="enrollment",
            object_ref=f"{round_.campaign.slug}/{enrollment.community.code}",
            scope_path=enrollment.community.path,
            summary=veto.code,
            before={
                "veto": veto.code,
                "reason": finding.reason,
                "round": round_.number,
                "lifts": finding.lifts,
            },
            via=via,
        )
        _mark(round_, enrollment)


class SealAccess(Protocol):
    """The seal as the workflow reads it (`assessments`): held during the write, and asked."""

    def hold(self, round_: Any) -> None: ...

    def sealed(self, round_: Any, enrollment: Any) -> bool: ...


def veto_overturn(
    *,
    actor: Any,
    round_: Any,
    enrollment: Any,
    veto: Any,
    reason: str,
    appeal_ref: str,
    access: SealAccess,
    via: str = "web",
) -> int:
    """Withdraw the finding(s) of `veto` made for the community in a SEALED round, as an
    appeal's reviewer decided (ADR 20): with them gone the veto was never found there, so it
    stands neither in this round nor in the later ones that carried it. The only change of a
    signed-off round's vetoes; the appeal service (`quality.appeals`) decides who may and alone
    calls it. The findings' words stay in the audit event, `veto.overturned`. Returns how many
    findings were withdrawn."""
    text = _reason(reason, lifts=True)
    if not appeal_ref:
        raise NotAllowed(_("Only an appeal's decision changes a signed-off round."))
    with transaction.atomic():
        access.hold(round_)
        if not access.sealed(round_, enrollment):
            raise ApplicationError(
                _("The round is open: its assessors and lead correct it, not an appeal.")
            )
        found = list(
            VetoFinding.objects.select_for_update(of=("self",))
            .filter(round=round_, enrollment=enrollment, veto=veto, lifts=False)
            .select_related("assessor")
        )
        if not found:
            raise ApplicationError(
                _("%(veto)s was not found for %(community)s in this round: nothing to overturn.")
                % {"veto": veto.code, "community": enrollment.community.name}
            )
        VetoFinding.objects.filter(pk__in=[f.pk for f in found]).delete()
        audit.record(
            actor=actor,
            action="veto.overturned",
            object_type="enrollment",
            object_ref=f"{round_.campaign.slug}/{enrollment.community.code}",
            scope_path=enrollment.community.path,
            summary=veto.code,
            before={
                "veto": veto.code,
                "round": round_.number,
                "findings": [{"by": f.assessor.username, "reason": f.reason} for f in found],
            },
            after={"reason": text, "appeal": appeal_ref},
            via=via,
        )
        _mark(round_, enrollment)
    return len(found)
