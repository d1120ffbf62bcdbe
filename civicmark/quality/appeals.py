"""Appeals (issue 17 item 3, ADR 20): who may do what, the writes, and the reads.

Within the campaign's `appeal_days` after a round's results (its sign-off for the community,
`evidence.judged_at`), the community's own staff contest one item's score, or one veto finding,
of that round, with a statement and optionally a document. The round's lead
(`authz.can_lead_round` over the whole round and no tie to a community it covers,
`panels.lead_refusal`, as calibration asks) assigns a reviewer: an assessor of the item's (the
veto's) department over the community who did not score it (record the finding) for that
community in that round, and who is not tied to it (`authz.conflicted_over`). The reviewer
upholds the result, or changes it, with a reason:

- an item's value is written through the scoring core's one route into a sealed round
  (`scoring.disagreements.appeal_settle`: a settlement whose source is the appeal); a veto
  finding is overturned through `scoring.findings.veto_overturn`;
- the stored result is recomputed (`scoring.reader.stored`), so rankings follow;
- the community's workflow state follows a changed municipal outcome
  (`assessments.workflow.appeal_follow`), and its certificate follows the result
  (`results.services.certificate_follow`).

All of it in the decision's one transaction, each part with its audit event. Every refusal
leaves nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.accounts.roles import Role
from civicmark.assessments import panels, sealing
from civicmark.assessments.evidence import judged_at
from civicmark.assessments.workflow import appeal_follow
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.files import StoredFile, store_upload
from civicmark.notifications.models import Event
from civicmark.notifications.services import notify
from civicmark.quality.models import OPEN_APPEALS, Appeal, AppealEvidence, AppealStatus
from civicmark.results.services import certificate_follow
from civicmark.scoring import disagreements, findings, reader, rounds
from civicmark.scoring.models import Score, Settlement, VetoFinding
from civicmark.scoring.validate import Invalid
from civicmark.standards.models import Item, VetoItem

CENTS = Decimal("0.01")  # a value as the stored result shows it (ADR 17's rounding)
# A statement or a decision is a few paragraphs; a pasted document is refused, not cut.
MAX_TEXT = 4000


class AppealRefused(ApplicationError):
    """A refusal that belongs beside one field of the form (`field`)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, code="appeal_refused")
        self.field = field


# --- the window -------------------------------------------------------------------------------


def results_on(round_: AcceptanceRound, enrollment: Enrollment) -> date | None:
    """The day the round's results became final for the community (its sign-off, or its
    county part's), or None while it is open."""
    signed_off = judged_at(round_, enrollment.community)
    return None if signed_off is None else timezone.localdate(signed_off)


def window_closes(round_: AcceptanceRound, enrollment: Enrollment) -> date | None:
    """The last day an appeal is taken, or None (no results yet, or no appeals)."""
    opened = results_on(round_, enrollment)
    days = round_.campaign.appeal_days
    if opened is None or not days:
        return None
    return opened + timedelta(days=days)


def window_refusal(round_: AcceptanceRound, enrollment: Enrollment, today: date) -> str | None:
    """Why no appeal is taken now on this round's result for the community, or None."""
    if not round_.campaign.appeal_days:
        return _("This campaign takes no appeals.")
    if results_on(round_, enrollment) is None:
        return _("The round's results are not final yet: an appeal is filed once it is signed off.")
    closes = window_closes(round_, enrollment)
    if closes is not None and today > closes:
        return _("The window for appeals closed on %(date)s.") % {"date": closes.isoformat()}
    return None


# --- who may ----------------------------------------------------------------------------------


def staff_refusal(user: Any, enrollment: Enrollment) -> str | None:
    if not authz.is_community_staff(user, enrollment.community):
        return _("Only the community's own staff appeal its results.")
    return None


def lead_refusal(user: Any, round_: AcceptanceRound) -> str | None:
    """Why the person may not assign the round's appeals (None: he leads it)."""
    if not authz.can_lead_round(user, round_):
        return _("Only the round's lead assigns its appeals.")
    return panels.lead_refusal(user, round_)


def may_lead(user: Any, round_: AcceptanceRound) -> bool:
    return lead_refusal(user, round_) is None


def subject_departments(appeal: Appeal) -> set[int]:
    """The departments that score the appealed item (its own and any other), or the veto's."""
    if appeal.veto is not None:
        return {appeal.veto.department_id}
    assert appeal.item is not None
    return {appeal.item.department_id, *appeal.item.other_departments.values_list("pk", flat=True)}


def _judged_it(user: Any, appeal: Appeal) -> bool:
    return (getattr(user, "pk", None) or 0) in _judges(appeal)


def reviewer_refusal(
    user: Any, appeal: Appeal, *, departments: set[int] | None = None, judged: bool | None = None
) -> str | None:
    """Why the person may not review the appeal, or None: an active assessor of the subject's
    department over the community, untied to it, who did not judge it in that round.
    (`departments` and `judged`: already known, for a list of candidates.)"""
    community = appeal.enrollment.community
    departments = subject_departments(appeal) if departments is None else departments
    who = str(user)
    if not getattr(user, "is_active", False) or not any(
        g.role == Role.ASSESSOR
        and g.department_id in departments
        and community.path.startswith(g.path)
        for g in authz.grants(user)
    ):
        return _("%(who)s is not an assessor of its department over %(community)s.") % {
            "who": who,
            "community": community.name,
        }
    if authz.conflicted_over(user, community):
        return _(
            "%(who)s holds a role in, or lives or works in, %(community)s: someone without that "
            "tie reviews it."
        ) % {"who": who, "community": community.name}
    if _judged_it(user, appeal) if judged is None else judged:
        if _scorers(appeal).filter(assessor_id=user.pk).exists():
            return _("%(who)s scored it in that round: someone who did not reviews it.") % {
                "who": who
            }
        return _(
            "%(who)s judged it already (settled its value, or decided an earlier appeal on it): "
            "someone who did not reviews it."
        ) % {"who": who}
    return None


def _scorers(appeal: Appeal) -> QuerySet[Any]:
    """The ids of those who scored the item (found the veto) for the community in the round."""
    if appeal.veto is not None:
        return VetoFinding.objects.filter(
            round=appeal.round, enrollment=appeal.enrollment, veto=appeal.veto
        ).values("assessor_id")
    return Score.objects.filter(
        round=appeal.round, enrollment=appeal.enrollment, item=appeal.item
    ).values("assessor_id")


def _judges(appeal: Appeal) -> set[int]:
    """The ids of those who judged the subject for the community in the round: who scored it
    (found the veto), who settled its value (the lead before the sign-off, an earlier appeal's
    reviewer after it), and the reviewer of every earlier appeal on it, upheld or changed: a
    second appeal is not reviewed by the one whose decision it contests."""
    ids = set(_scorers(appeal).values_list("assessor_id", flat=True))
    if appeal.item_id is not None:
        ids |= set(
            Settlement.objects.filter(
                round=appeal.round, enrollment=appeal.enrollment, item=appeal.item
            )
            .exclude(appeal_ref=str(appeal.public_id))  # this appeal's own decision
            .values_list("settled_by_id", flat=True)
        )
    ids |= set(
        Appeal.objects.filter(
            round=appeal.round,
            enrollment=appeal.enrollment,
            item=appeal.item,
            veto=appeal.veto,
            reviewer__isnull=False,
        )
        .exclude(pk=appeal.pk)
        .values_list("reviewer_id", flat=True)
    )
    return ids


def reviewer_candidates(appeal: Appeal, *, lead: Any = None) -> list[User]:
    """Everyone the lead may assign: the assessors of the department, less those refused (who
    judged it, and the lead himself, are left out in the query; each other one is asked
    `reviewer_refusal`)."""
    departments = subject_departments(appeal)
    found = (
        User.objects.filter(
            is_active=True,
            roles__role=Role.ASSESSOR,
            roles__department_id__in=departments,
        )
        .exclude(pk__in=_judges(appeal) | {getattr(lead, "pk", None) or 0})
        .select_related("home_division")
        .prefetch_related("roles__division", "roles__department")
        .distinct()
        .order_by("username")
    )
    return [
        u
        for u in found
        if reviewer_refusal(u, appeal, departments=departments, judged=False) is None
    ]


# --- what an appeal is about ------------------------------------------------------------------


def appealable_items(round_: AcceptanceRound, enrollment: Enrollment) -> QuerySet[Item]:
    """The items scored for the community in this very round (a carried item is appealed in
    the round that scored it)."""
    scored = Score.objects.filter(round=round_, enrollment=enrollment).values("item_id")
    return round_.campaign.standard.items.filter(pk__in=scored).order_by("order", "code")


def items_offered(round_: AcceptanceRound, enrollment: Enrollment) -> list[Item]:
    """The items the community's appeal form offers: those scored in this round that lost it
    points, or were judged not applicable; an item scored in full has nothing to contest (a
    community appeals what lost it points)."""
    values, na = rounds.item_values(round_, enrollment_id=enrollment.pk)
    return [
        item
        for item in appealable_items(round_, enrollment)
        if (enrollment.pk, item.pk) in na
        or values.get((enrollment.pk, item.pk), item.points) < item.points
    ]


def appealable_vetoes(round_: AcceptanceRound, enrollment: Enrollment) -> QuerySet[VetoItem]:
    """The vetoes found for the community in this very round."""
    found = VetoFinding.objects.filter(round=round_, enrollment=enrollment, lifts=False)
    return round_.campaign.standard.vetoes.filter(pk__in=found.values("veto_id")).order_by(
        "order", "code"
    )


def current_value(appeal: Appeal) -> str:
    """The subject's value now: the item's combined (or settled) points, "N/A", or for a veto
    "found" / "overturned"."""
    if appeal.veto is not None:
        found = VetoFinding.objects.filter(
            round=appeal.round, enrollment=appeal.enrollment, veto=appeal.veto, lifts=False
        ).exists()
        return "found" if found else "overturned"
    values, na = rounds.item_values(appeal.round, enrollment_id=appeal.enrollment_id)
    key = (appeal.enrollment_id, appeal.item_id or 0)
    if key in na:
        return "N/A"
    value = values.get(key)
    return "" if value is None else str(value)


# --- files ------------------------------------------------------------------------------------


def _stored(upload: UploadedFile | None, enrollment: Enrollment) -> StoredFile | None:
    if upload is None:
        return None
    community = enrollment.community
    try:
        return store_upload(upload, folder=f"appeals/{enrollment.campaign.slug}/{community.code}")
    except ApplicationError as exc:
        raise AppealRefused(exc.message, "file") from exc


def _forget(stored: StoredFile | None) -> None:
    """A stored upload whose write was refused after all: the file goes too."""
    if stored is not None:
        default_storage.delete(stored.path)


def _scope(appeal: Appeal) -> str:
    return str(appeal.enrollment.community.path)


def _ref(appeal: Appeal) -> str:
    round_ = appeal.round
    return f"{round_.campaign.slug}/{round_.number}/{appeal.enrollment.community.code}"


# --- writes -----------------------------------------------------------------------------------


def _text(text: str, field: str, empty: str) -> str:
    clean = (text or "").strip()
    if not clean:
        raise AppealRefused(empty, field)
    if len(clean) > MAX_TEXT:
        raise AppealRefused(
            _("The text is %(n)d characters long; at most %(max)d are kept.")
            % {"n": len(clean), "max": MAX_TEXT},
            field,
        )
    return clean


def _subject_refusal(
    round_: AcceptanceRound, enrollment: Enrollment, item: Item | None, veto: VetoItem | None
) -> None:
    community = enrollment.community.name
    if (item is None) == (veto is None):
        raise AppealRefused(
            _("Choose the one item or veto finding the appeal contests."), "subject"
        )
    if item is not None and not appealable_items(round_, enrollment).filter(pk=item.pk).exists():
        raise AppealRefused(
            _(
                "%(item)s was not scored for %(community)s in this round: there is nothing to appeal."
            )
            % {"item": item.code, "community": community},
            "subject",
        )
    if veto is not None and not appealable_vetoes(round_, enrollment).filter(pk=veto.pk).exists():
        raise AppealRefused(
            _("%(veto)s was not found for %(community)s in this round: there is nothing to appeal.")
            % {"veto": veto.code, "community": community},
            "subject",
        )


def _open_twice(round_: AcceptanceRound, enrollment: Enrollment, item: Any, veto: Any) -> bool:
    return Appeal.objects.filter(
        round=round_, enrollment=enrollment, item=item, veto=veto, status__in=OPEN_APPEALS
    ).exists()


def appeal_file(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    item: Item | None = None,
    veto: VetoItem | None = None,
    statement: str,
    upload: UploadedFile | None = None,
    today: date | None = None,
    via: str = "web",
) -> Appeal:
    """The community's staff contest one item's score or one veto finding of a signed-off
    round, within the campaign's window, with a statement and optionally a document."""
    if enrollment.campaign_id != round_.campaign_id:
        raise NotAllowed(_("That community is not part of this round."))
    if refusal := staff_refusal(actor, enrollment):
        raise NotAllowed(refusal)
    if refusal := window_refusal(round_, enrollment, today or timezone.localdate()):
        raise AppealRefused(refusal)
    _subject_refusal(round_, enrollment, item, veto)
    text = _text(statement, "statement", _("Say what the appeal contests and why."))
    if _open_twice(round_, enrollment, item, veto):
        raise AppealRefused(
            _("An appeal on this is already open: wait for its decision."), "subject"
        )
    stored = _stored(upload, enrollment)
    try:
        with transaction.atomic():
            Enrollment.objects.select_for_update().filter(pk=enrollment.pk).first()
            if _open_twice(round_, enrollment, item, veto):  # filed meanwhile
                raise AppealRefused(
                    _("An appeal on this is already open: wait for its decision."), "subject"
                )
            appeal = Appeal.objects.create(
                round=round_,
                enrollment=enrollment,
                item=item,
                veto=veto,
                statement=text,
                filed_by=actor,
            )
            if stored is not None:
                AppealEvidence.objects.create(appeal=appeal, uploaded_by=actor, **stored.fields())
            audit.record(
                actor=actor,
                via=via,
                action="appeal.filed",
                object_type="appeal",
                object_ref=str(appeal.public_id),
                scope_path=_scope(appeal),
                summary=f"{_ref(appeal)} {appeal.subject_code}",
                after={
                    "round": round_.number,
                    "item": item.code if item else None,
                    "veto": veto.code if veto else None,
                    "statement": text,
                    "file": stored.sha256 if stored else None,
                },
            )
    except ApplicationError:
        _forget(stored)
        raise
    return appeal


def appeal_assign(*, actor: Any, appeal: Appeal, reviewer: Any, via: str = "web") -> Appeal:
    """The round's lead gives the appeal to a reviewer who did not judge it (again, to another
    one, while it is undecided)."""
    if refusal := lead_refusal(actor, appeal.round):
        raise NotAllowed(refusal)
    if reviewer is None:
        raise AppealRefused(_("Choose the reviewer."), "reviewer")
    if reviewer.pk == getattr(actor, "pk", None):
        # The one change of a sealed round is named by the lead and decided by someone else.
        raise AppealRefused(
            _("The lead names someone else to review an appeal: not himself."), "reviewer"
        )
    if refusal := reviewer_refusal(reviewer, appeal):
        raise AppealRefused(refusal, "reviewer")
    with transaction.atomic():
        fresh = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if not fresh.is_open:
            raise AppealRefused(_("The appeal is decided: it is no longer assigned."))
        before = {"reviewer": fresh.reviewer.username if fresh.reviewer else None}
        fresh.reviewer = reviewer
        fresh.assigned_by = actor if getattr(actor, "pk", None) else None
        fresh.assigned_at = timezone.now()
        fresh.status = AppealStatus.ASSIGNED
        fresh.save(update_fields=["reviewer", "assigned_by", "assigned_at", "status"])
        audit.record(
            actor=actor,
            via=via,
            action="appeal.assigned",
            object_type="appeal",
            object_ref=str(fresh.public_id),
            scope_path=_scope(fresh),
            summary=f"{_ref(fresh)} {fresh.subject_code}: {reviewer}",
            before=before,
            after={"reviewer": reviewer.username, "status": AppealStatus.ASSIGNED},
        )
    appeal.reviewer, appeal.status = fresh.reviewer, fresh.status
    appeal.assigned_by, appeal.assigned_at = fresh.assigned_by, fresh.assigned_at
    return appeal


class _Seal:
    """The seal as the workflow reads it, for the scoring core's appeal routes: the sign-off
    lock held shared, then the round as it stands in this transaction."""

    def hold(self, round_: Any) -> None:
        sealing.hold_for_writing(round_)
        round_.__dict__["_fresh_for_appeal"] = AcceptanceRound.objects.get(pk=round_.pk)

    def sealed(self, round_: Any, enrollment: Any) -> bool:
        fresh = round_.__dict__.pop("_fresh_for_appeal", round_)
        return bool(panels.round_sealed_for(fresh, enrollment.community))


SEAL = _Seal()


@dataclass(frozen=True)
class Decision:
    """What the reviewer decides: `change` False upholds; True changes the item to `points`
    (or not applicable), or overturns the veto finding."""

    change: bool
    reason: str
    points: Decimal | None = None
    not_applicable: bool = False


def _change(actor: Any, appeal: Appeal, decision: Decision, reason: str, via: str) -> str:
    """Write the change through the scoring core; the subject's new value."""
    ref = str(appeal.public_id)
    if appeal.veto is not None:
        findings.veto_overturn(
            actor=actor,
            round_=appeal.round,
            enrollment=appeal.enrollment,
            veto=appeal.veto,
            reason=reason,
            appeal_ref=ref,
            access=SEAL,
            via=via,
        )
        return "overturned"
    assert appeal.item is not None
    points = decision.points
    if not decision.not_applicable and points is None:
        raise AppealRefused(_("Give the item's new points, or mark it not applicable."), "points")
    now = current_value(appeal)
    after = "N/A" if decision.not_applicable or points is None else str(points.quantize(CENTS))
    unchanged = (
        now == "N/A"
        if decision.not_applicable
        else now not in ("", "N/A") and Decimal(now) == decision.points
    )
    if unchanged:
        raise AppealRefused(
            _("That is the item's value already: uphold the result instead."), "points"
        )
    try:
        disagreements.appeal_settle(
            actor=actor,
            round_=appeal.round,
            enrollment=appeal.enrollment,
            item=appeal.item,
            points=None if decision.not_applicable else decision.points,
            not_applicable=decision.not_applicable,
            reason=reason,
            appeal_ref=ref,
            access=SEAL,
            via=via,
        )
    except Invalid as exc:
        raise AppealRefused(exc.message, "points") from exc
    return after


def _result(appeal: Appeal) -> tuple[Decimal | None, str]:
    row = reader.stored(appeal.round, [appeal.enrollment_id]).first()
    return (row.total, row.outcome) if row is not None else (None, "")


def appeal_decide(
    *,
    actor: Any,
    appeal: Appeal,
    decision: Decision,
    upload: UploadedFile | None = None,
    via: str = "web",
) -> Appeal:
    """The assigned reviewer upholds the result or changes it, saying why. A change goes
    through the scoring core into the sealed round; the stored result, the community's workflow
    state and its certificate follow, all in this one transaction."""
    if appeal.reviewer_id is None or appeal.reviewer_id != getattr(actor, "pk", None):
        raise NotAllowed(_("Only the reviewer the lead assigned decides the appeal."))
    if not appeal.is_open:
        raise AppealRefused(_("The appeal is already decided."))
    if refusal := reviewer_refusal(actor, appeal):
        raise NotAllowed(refusal)
    reason = _text(decision.reason, "reason", _("Say why the result stands or changes."))
    stored = _stored(upload, appeal.enrollment)
    try:
        with transaction.atomic():
            fresh = (
                # Only the appeal's row is locked: its item and veto are outer joins, which
                # PostgreSQL does not lock.
                Appeal.objects.select_for_update(of=("self",))
                .select_related("round__campaign", "enrollment__community", "item", "veto")
                .get(pk=appeal.pk)
            )
            if fresh.status != AppealStatus.ASSIGNED or fresh.reviewer_id != actor.pk:
                raise AppealRefused(_("The appeal is already decided."))
            before_value = current_value(fresh)
            total_before, outcome_before = _result(fresh)
            after_value = before_value
            if decision.change:
                after_value = _change(actor, fresh, decision, reason, via)
            total_after, outcome_after = _result(fresh)
            fresh.status = AppealStatus.CHANGED if decision.change else AppealStatus.UPHELD
            fresh.decision = reason
            fresh.decided_at = timezone.now()
            fresh.value_before, fresh.value_after = before_value, after_value
            fresh.total_before, fresh.total_after = total_before, total_after
            fresh.outcome_before, fresh.outcome_after = outcome_before, outcome_after
            fresh.save()
            if stored is not None:
                AppealEvidence.objects.create(
                    appeal=fresh, uploaded_by=actor, by_reviewer=True, **stored.fields()
                )
            audit.record(
                actor=actor,
                via=via,
                action="appeal.decided",
                object_type="appeal",
                object_ref=str(fresh.public_id),
                scope_path=_scope(fresh),
                summary=f"{_ref(fresh)} {fresh.subject_code}: {fresh.status}",
                before={"status": AppealStatus.ASSIGNED, "value": before_value},
                after={
                    "status": fresh.status,
                    "value": after_value,
                    "reason": reason,
                    "total": None if total_after is None else str(total_after),
                    "outcome": outcome_after,
                },
            )
            if decision.change:
                _follow(actor, fresh, reason, via)
            _tell_decided(fresh)
    except ApplicationError:
        _forget(stored)
        raise
    return fresh


def _tell_decided(appeal: Appeal) -> None:
    """The community's staff (who filed it, and whoever holds the office now) are told the
    decision, in the decision's transaction: the inbox entry stands or falls with it."""
    community = appeal.enrollment.community
    values = {
        "subject": appeal.subject_code,
        "round": appeal.round.name,
        "before": appeal.value_before or "—",
        "after": appeal.value_after,
    }

    def title() -> str:
        if appeal.status == AppealStatus.CHANGED:
            return _("Appeal on %(subject)s decided: the result changed") % values
        return _("Appeal on %(subject)s decided: the result stands") % values

    def body() -> str:
        if appeal.status != AppealStatus.CHANGED:
            outcome = f"{appeal.round.name}:"
        elif appeal.veto is not None:
            outcome = _("%(round)s: the veto finding is overturned.") % values
        else:
            outcome = _("%(round)s: %(before)s points became %(after)s.") % values
        return f"{outcome} {appeal.decision}"

    notify(
        authz.office_holders([community])[community.pk],
        event=Event.APPEAL_DECIDED,
        key=f"appeal_decided:{appeal.public_id}",
        title=title,
        body=body,
        link=reverse(
            "appeal_detail",
            args=[appeal.round.campaign.slug, appeal.round.number, appeal.public_id],
        ),
        scope_path=community.path,
    )


def _follow(actor: Any, appeal: Appeal, reason: str, via: str) -> None:
    """The workflow state and the certificate follow the corrected result."""
    ref = str(appeal.public_id)
    enrollment = Enrollment.objects.select_related("campaign", "community").get(
        pk=appeal.enrollment_id
    )
    appeal_follow(
        actor=actor,
        enrollment=enrollment,
        round_=appeal.round,
        reason=reason,
        appeal_ref=ref,
        via=via,
    )
    certificate_follow(
        actor=actor,
        round_=appeal.round,
        enrollment=enrollment,
        reason=reason,
        appeal_ref=ref,
        via=via,
    )


# --- reads ------------------------------------------------------------------------------------


def _with_related(found: QuerySet[Appeal]) -> QuerySet[Appeal]:
    return found.select_related(
        "round__campaign", "enrollment__community", "item", "veto", "reviewer", "filed_by"
    )


def appeals_of(enrollment: Enrollment) -> QuerySet[Appeal]:
    return _with_related(Appeal.objects.filter(enrollment=enrollment))


def appeals_led(user: Any, round_: AcceptanceRound) -> QuerySet[Appeal]:
    """The round's appeals, for its lead only (anyone else: none)."""
    if not may_lead(user, round_):
        return Appeal.objects.none()
    return _with_related(round_.appeals.all())


def appeals_to_decide(user: Any) -> QuerySet[Appeal]:
    return _with_related(
        Appeal.objects.filter(
            reviewer_id=getattr(user, "pk", None) or 0, status=AppealStatus.ASSIGNED
        )
    )


def may_read(user: Any, appeal: Appeal) -> bool:
    """The community's staff, the round's lead and the assigned reviewer read an appeal."""
    return (
        authz.is_community_staff(user, appeal.enrollment.community)
        or may_lead(user, appeal.round)
        or (appeal.reviewer_id is not None and appeal.reviewer_id == getattr(user, "pk", None))
    )


@dataclass
class CountRow:
    """Appeals of a round on one department's items or vetoes (or of the round: `department`
    None), by state."""

    department: Any
    filed: int = 0
    open: int = 0
    upheld: int = 0
    changed: int = 0

    def add(self, status: str) -> None:
        self.filed += 1
        if status in OPEN_APPEALS:
            self.open += 1
        elif status == AppealStatus.UPHELD:
            self.upheld += 1
        elif status == AppealStatus.CHANGED:
            self.changed += 1


def appeal_counts(round_: AcceptanceRound) -> tuple[CountRow, list[CountRow]]:
    """The round's appeals and their outcomes in all, and per department (the item's first
    department, or the veto's), in one query."""
    from civicmark.divisions.models import Department

    total = CountRow(department=None)
    by_department: dict[int, CountRow] = {}
    rows = Appeal.objects.filter(round=round_).values_list(
        "status", "item__department", "veto__department"
    )
    departments = {
        d.pk: d
        for d in Department.objects.filter(
            Q(pk__in=rows.values("item__department")) | Q(pk__in=rows.values("veto__department"))
        )
    }
    for status, item_dept, veto_dept in rows:
        dept = item_dept or veto_dept
        total.add(status)
        by_department.setdefault(dept, CountRow(department=departments.get(dept))).add(status)
    ordered = sorted(by_department.values(), key=lambda r: getattr(r.department, "code", ""))
    return total, ordered


def scores_given(appeal: Appeal) -> list[Any]:
    """What each assessor gave the item for the community in the round, or each finding of the
    veto, for the reviewer's page."""
    if appeal.veto is not None:
        return list(
            VetoFinding.objects.filter(
                round=appeal.round, enrollment=appeal.enrollment, veto=appeal.veto
            ).select_related("assessor")
        )
    return list(
        Score.objects.filter(round=appeal.round, enrollment=appeal.enrollment, item=appeal.item)
        .select_related("assessor")
        .order_by("assessor__username")
    )
