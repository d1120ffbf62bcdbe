"""The writes of the public notice (issue 17 item 5, ADR 22): publishing it, an objection
received, an objection decided. Each is one service with its audit event in the same
transaction; an upheld objection takes its workflow step in that transaction too."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.assessments import notice as rules
from civicmark.assessments.models import (
    NoticeEntry,
    Objection,
    ObjectionDecision,
    ProposedFor,
    PublicNotice,
)
from civicmark.assessments.workflow import State, transition_apply
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.names import is_plain, plain_text

_PHONE = re.compile(r"\+?[0-9][0-9 \-]{5,22}[0-9]", re.ASCII)


def _scope(round_: AcceptanceRound) -> str:
    # The city's own path: objections and their decisions are for the municipal office, not
    # for the county or town of the community objected to.
    return str(round_.campaign.division.path)


def notice_publish(
    *,
    actor: Any,
    round_: AcceptanceRound,
    working_days: int = rules.DEFAULT_WORKING_DAYS,
    today: dt.date,
    via: str = "web",
) -> PublicNotice:
    """Publish the round's list (those not yet on one of its notices) for `working_days`
    working days from `today`."""
    if refusal := rules.lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    if round_.finalised_at is None:
        raise ApplicationError(_("Finalise the round before publishing its notice."))
    if not rules.MIN_WORKING_DAYS <= working_days <= rules.MAX_WORKING_DAYS:
        raise ApplicationError(
            _("A notice stays up from %(low)d to %(high)d working days.")
            % {"low": rules.MIN_WORKING_DAYS, "high": rules.MAX_WORKING_DAYS}
        )
    closes_on = rules.window_closes(today, working_days)
    with transaction.atomic():
        # The round's row is locked while its list is read and written: two posts of the
        # publish button (a double click) would otherwise both list the same communities.
        AcceptanceRound.objects.select_for_update().filter(pk=round_.pk).first()
        listed = rules.candidates(round_)
        if not listed:
            raise ApplicationError(
                _("Every community this round names or proposes is already on one of its notices.")
            )
        notice = PublicNotice.objects.create(
            round=round_,
            working_days=working_days,
            opens_on=today,
            closes_on=closes_on,
            published_by=actor if getattr(actor, "pk", None) else None,
        )
        NoticeEntry.objects.bulk_create(
            NoticeEntry(
                notice=notice,
                enrollment=c.enrollment,
                proposed_for=c.proposed_for,
                total=c.total,
            )
            for c in listed
        )
        audit.record(
            actor=actor,
            action="notice.published",
            object_type="notice",
            object_ref=str(notice.public_id),
            scope_path=_scope(round_),
            summary=f"{round_.campaign.slug} #{round_.number}: {today} – {closes_on}",
            after={
                "opens_on": str(today),
                "closes_on": str(closes_on),
                "working_days": working_days,
                "communities": {c.enrollment.community.code: c.proposed_for for c in listed},
            },
            via=via,
        )
    return notice


def _contact_refusal(contact: str) -> str | None:
    if "@" in contact:
        try:
            validate_email(contact)
        except ValidationError:
            return _("Write a telephone number or an email address we can reach you at.")
        return None
    if _PHONE.fullmatch(contact) and sum(ch.isdigit() for ch in contact) >= 7:
        return None
    return _("Write a telephone number or an email address we can reach you at.")


def _statement_refusal(statement: str) -> str | None:
    if not statement:
        return _("Say what you object to.")
    if len(statement) > rules.STATEMENT_MAX:
        return _("The statement has %(length)d characters; at most %(limit)d are allowed.") % {
            "length": len(statement),
            "limit": rules.STATEMENT_MAX,
        }
    # Line breaks and tabs are writing; control and direction marks are not (invisible on the
    # city's page, a name shown reversed, a NUL that PostgreSQL refuses).
    if plain_text(statement, keep_lines=True) != statement:
        return _("The text holds hidden characters (control or direction marks).")
    return None


class ObjectionRefused(ApplicationError):
    """What was wrong, by field ("" for the whole objection): nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def objection_submit(
    *,
    notice: PublicNotice,
    entry: NoticeEntry,
    statement: str,
    name: str,
    contact: str,
    today: dt.date,
    via: str = "public",
) -> Objection:
    """Anyone objects to one community on an open notice, with a statement and a contact. The
    audit trail records the community and the statement, never who sent it nor the contact."""
    statement = statement.replace("\r\n", "\n").strip()
    name, contact = " ".join(name.split()), contact.strip()
    errors: dict[str, str] = {}
    if entry.notice_id != notice.pk:
        errors["entry"] = _("Choose a community on this notice.")
    elif entry.withdrawn_at is not None:
        errors["entry"] = _("That community has been taken off the list.")
    if not notice.is_open(today):
        errors[""] = _(
            "The notice is closed: objections were taken from %(opens)s to %(closes)s."
        ) % {
            "opens": notice.opens_on.isoformat(),
            "closes": notice.closes_on.isoformat(),
        }
    if reason := _statement_refusal(statement):
        errors["statement"] = reason
    if not name:
        errors["name"] = _("Give your name: the city may need to ask you more.")
    elif len(name) > 60 or not is_plain(name):
        errors["name"] = _("The name holds hidden characters or is too long.")
    if not contact:
        errors["contact"] = _("Give a telephone number or an email address.")
    elif len(contact) > 120 or not is_plain(contact) or (reason := _contact_refusal(contact)):
        errors["contact"] = _("Write a telephone number or an email address we can reach you at.")
    if errors:
        raise ObjectionRefused(errors)
    community = entry.enrollment.community
    with transaction.atomic():
        objection = Objection.objects.create(
            entry=entry, statement=statement, name=name, contact=contact
        )
        audit.record(
            actor=None,
            action="notice.objection_received",
            object_type="objection",
            object_ref=objection.reference,
            scope_path=_scope(notice.round),
            summary=str(community.name)[:255],
            after={"community": community.code, "statement": statement},
            via=via,
        )
    return objection


def objection_decide(
    *, actor: Any, objection: Objection, decision: str, reason: str, via: str = "web"
) -> Objection:
    """The city decides an objection with a reason. Dismissed: the naming stands. Upheld: the
    community is taken off the list and its workflow state goes back (ADR 22): a proposal for
    commendation is declined (proposed -> standard unit); a naming as a standard unit is undone
    to rectification (standard unit or proposed -> rectifying), for a later round to assess."""
    entry = objection.entry
    round_ = entry.notice.round
    if refusal := rules.lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    if decision not in (ObjectionDecision.DISMISSED, ObjectionDecision.UPHELD):
        raise ApplicationError(_("Choose whether the objection is dismissed or upheld."))
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Say why: the reason is recorded with the decision."))
    with transaction.atomic():
        fresh = Objection.objects.select_for_update().get(pk=objection.pk)
        if fresh.decision:
            raise ApplicationError(_("This objection has already been decided."))
        fresh.decision, fresh.reason = decision, reason
        fresh.decided_by = actor if getattr(actor, "pk", None) else None
        fresh.decided_at = timezone.now()
        fresh.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
        if decision == ObjectionDecision.UPHELD:
            _take_off(actor=actor, entry=entry, reason=reason, via=via)
        community = entry.enrollment.community
        audit.record(
            actor=actor,
            action="notice.objection_decided",
            object_type="objection",
            object_ref=fresh.reference,
            scope_path=_scope(round_),
            summary=f"{community.name}: {ObjectionDecision(decision).label}"[:255],
            before={"decision": ""},
            after={"decision": decision, "reason": reason, "community": community.code},
            via=via,
        )
    return fresh


def _take_off(*, actor: Any, entry: NoticeEntry, reason: str, via: str) -> None:
    """An upheld objection: off the list (once), and the workflow step back that matches."""
    fresh = NoticeEntry.objects.select_for_update().get(pk=entry.pk)
    if fresh.withdrawn_at is not None:
        return  # a second objection upheld about the same community: already off
    fresh.withdrawn_at = timezone.now()
    fresh.save(update_fields=["withdrawn_at"])
    entry.withdrawn_at = fresh.withdrawn_at
    enrollment = fresh.enrollment
    enrollment.refresh_from_db(fields=["status"])
    if fresh.proposed_for == ProposedFor.COMMENDATION:
        to = State.STANDARD_UNIT if enrollment.status == State.PROPOSED else None
    else:
        to = State.RECTIFYING if enrollment.status in rules.NAMED else None
    if to is not None:
        transition_apply(
            actor=actor,
            campaign=enrollment.campaign,
            enrollments=[enrollment],
            to=to,
            comment=_("Objection upheld on the public notice: %s") % reason,
            via=via,
        )
