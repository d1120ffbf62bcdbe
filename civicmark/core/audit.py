"""Writing audit events. Call `record` inside the service's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from civicmark.core.inserts import insert_rows
from civicmark.core.models import AuditEvent

# What each action code means, in the reader's language: the audit log prints these, not the
# codes. One table beside `record`, so an action added anywhere has one place to be named; an
# action missing here is shown by its code (`action_label`), never hidden.
ACTIONS: dict[str, Promise] = {
    "campaign.created": _("Campaign created"),
    "phase.rescheduled": _("Phase rescheduled"),
    "task.assigned": _("Task assigned"),
    "task.attached": _("File attached to a task"),
    "task.updated": _("Task updated"),
    "task.followed_work": _("Task completed by the work it follows"),
    "meeting.created": _("Meeting created"),
    "meeting.attendance": _("Meeting attendance recorded"),
    "round.configured": _("Round configured"),
    "round.finalised": _("Round finalised"),
    "round.reopened": _("Round reopened"),
    "round.part_configured": _("County part of a round configured"),
    "round.part_finalised": _("County part of a round finalised"),
    "round.part_reopened": _("County part of a round reopened"),
    "self_score.saved": _("Self-assessment saved"),
    "evidence.added": _("Evidence attached"),
    "evidence.removed": _("Evidence removed"),
    "workflow.transition": _("Workflow step taken"),
    "workflow.item_comments": _("Comments on items"),
    "rectification.opened": _("Rectification opened"),
    "rectification.updated": _("Rectification updated"),
    "rectification.evidence_added": _("Rectification evidence attached"),
    "escalation.step": _("Overdue work escalated"),
    "score.saved": _("Score saved"),
    "calibration.opened": _("Calibration exercise opened"),
    "calibration.scored": _("Calibration sheet scored"),
    "calibration.closed": _("Calibration exercise closed"),
    "sample.settings_saved": _("County sample sizes set"),
    "sample.drawn": _("County sample drawn"),
    "notice.published": _("Public notice published"),
    "notice.objection_received": _("Objection to a public notice received"),
    "notice.objection_decided": _("Objection to a public notice decided"),
    "score.settled": _("Disagreement settled"),
    "veto.recorded": _("Veto recorded"),
    "veto.lifted": _("Veto lifted"),
    "veto.withdrawn": _("Veto withdrawn"),
    "appeal.filed": _("Appeal filed"),
    "appeal.assigned": _("Appeal assigned to a reviewer"),
    "appeal.decided": _("Appeal decided"),
    "score.appeal_changed": _("Score changed on appeal"),
    "veto.overturned": _("Veto finding overturned on appeal"),
    "workflow.appeal_followed": _("Workflow state followed an appeal"),
    "certificate.appeal_followed": _("Certificate followed an appeal"),
    "report.requested": _("Report requested"),
    "report.downloaded": _("Report downloaded"),
    "certificates.issued": _("Certificates issued"),
    "certificate.revoked": _("Certificate revoked"),
    "recheck.drawn": _("Title re-checks drawn"),
    "recheck.recorded": _("Title re-check recorded"),
    "recheck.followed_up": _("Title re-check followed up"),
    "title.withdrawn": _("Title withdrawn"),
    "upward.reported": _("Communities reported to the city"),
    "upward.rebuilt": _("Documents of a report to the city made again"),
    "standard.imported": _("Standard imported"),
    "standard.published": _("Standard published"),
    "standard.retired": _("Standard retired"),
    "person.created": _("Person created"),
    "person.updated": _("Person updated"),
    "person.privileges_changed": _("Person's privileges changed"),
    "person.password_set": _("Password set"),
    "person.password_link": _("Password link issued"),
    "profile.updated": _("Profile updated"),
    "role.granted": _("Role granted"),
    "role.revoked": _("Role revoked"),
    "otp.enrolled": _("Sign-in code device enrolled"),
    "otp.reset": _("Sign-in code device reset"),
    "token.created": _("API access token created"),
    "token.revoked": _("API access token revoked"),
    "token.refused": _("API access token refused"),
    "division.updated": _("Division updated"),
    "divisions.imported": _("Divisions imported"),
    "department.created": _("Department created"),
    "department.updated": _("Department updated"),
    "departments.imported": _("Departments imported"),
    "level_label.saved": _("Level name saved"),
    "working_group.created": _("Working group created"),
    "working_group.member_added": _("Working group member added"),
    "working_group.member_removed": _("Working group member removed"),
    "survey.created": _("Survey created"),
    "survey.instrument_created": _("Questionnaire created"),
    "survey.instrument_published": _("Questionnaire published"),
    "survey.question_edited": _("Question edited"),
    "survey.rule_set": _("Item rule set"),
    "survey.frame_imported": _("Sampling frame imported"),
    "survey.drawn": _("Sample drawn"),
    "survey.substituted": _("Respondent substituted"),
    "survey.answered": _("Survey answered"),
    "survey.paper_keyed": _("Paper questionnaire keyed in"),
    "survey.confirmed": _("Survey confirmed"),
    "survey.overridden": _("Survey result overridden"),
    "survey.closed": _("Survey closed"),
    "employment.anonymised": _("Resident anonymised"),
    "employment.calendar_imported": _("Service calendar imported"),
    "employment.consent_given": _("Consent given"),
    "employment.consent_withdrawn": _("Consent withdrawn"),
    "employment.employer_verified": _("Employer verified"),
    "employment.fair_check_in": _("Job fair check-in"),
    "employment.fair_created": _("Job fair created"),
    "employment.fair_employer": _("Employer added to a job fair"),
    "employment.figures_signed": _("Employment figures signed"),
    "employment.follow_up": _("Follow-up recorded"),
    "employment.groups_imported": _("Groups imported"),
    "employment.household_added": _("Household added"),
    "employment.id_revealed": _("ID number revealed"),
    "employment.ledger_imported": _("Ledger imported"),
    "employment.pii_rekeyed": _("Personal data re-keyed"),
    "employment.recognised": _("Employment recognised"),
    "employment.reconciled": _("Ledger reconciled"),
    "employment.referral_created": _("Referral created"),
    "employment.referral_moved": _("Referral moved"),
    "employment.resident_added": _("Resident added"),
    "employment.service_recorded": _("Service recorded"),
    "employment.status_set": _("Employment status set"),
    "employment.vacancies_reminded": _("Vacancy reminders sent"),
    "employment.vacancy_extended": _("Vacancy extended"),
    "employment.vacancy_filed": _("Vacancy filed"),
    "employment.vacancy_published": _("Vacancy published"),
    "employment.vacancy_rejected": _("Vacancy rejected"),
    "employment.zero_case_cleared": _("Zero-employment case cleared"),
    "employment.zero_case_recognised": _("Zero-employment case recognised"),
    "notification.read": _("Notification read"),
    "notifications.read_all": _("All notifications marked as read"),
    "notifications.preferences_set": _("Notification channels chosen"),
}


def action_label(action: str) -> str:
    """The action in the reader's language; an action not in the table shows its code."""
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_ref: str = "",
    scope_path: str = "",
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    via: str = "web",
) -> AuditEvent:
    # An audit event outside a transaction could survive a change that rolled back, or vanish
    # with one that did not: services must open the transaction first.
    assert transaction.get_connection().in_atomic_block, "audit.record needs a transaction"
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_ref=str(object_ref)[:64],
        scope_path=scope_path[:255],
        summary=summary[:255],
        before=before,
        after=after,
        via=via,
    )


@dataclass(frozen=True)
class Event:
    actor: Any
    action: str
    object_type: str
    object_ref: str = ""
    scope_path: str = ""
    summary: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    via: str = "web"


def record_many(events: list[Event]) -> None:
    """Several events of one change in one insert (a page of scores, a sheet of 10,000): the
    same rows `record` would store, written by `inserts.insert_rows` rather than bulk_create,
    whose per-row model instance cost a sheet more than its scores (ADR 17). One time for the
    whole change."""
    assert transaction.get_connection().in_atomic_block, "audit.record_many needs a transaction"
    at = timezone.now()
    insert_rows(
        AuditEvent,
        _COLUMNS,
        (
            (
                uuid.uuid4(),
                at,
                e.actor.pk if getattr(e.actor, "pk", None) else None,
                e.via,
                e.action,
                e.object_type,
                str(e.object_ref)[:64],
                e.scope_path[:255],
                e.summary[:255],
                e.before,
                e.after,
            )
            for e in events
        ),
    )


_COLUMNS = (
    "public_id",
    "at",
    "actor_id",
    "via",
    "action",
    "object_type",
    "object_ref",
    "scope_path",
    "summary",
    "before",
    "after",
)
