"""Writing scores: permission, validation, a version check against lost updates, the audit event."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import coverage, followers, panels, part_services, sealing
from civicmark.assessments.access import ACCESS, rectification_refusal
from civicmark.assessments.evidence import evidence_refusal
from civicmark.assessments.models import SelfScore
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.scoring.models import Score, VetoFinding
from civicmark.scoring.writer import Conflict, ScoreEntry, ScoreErrors, Written, write
from civicmark.standards.models import Item

HALF = Decimal("0.5")


# The one validator and the one writer live in scoring (ADR 17); these names stay for callers.
__all__ = ["Conflict", "ScoreEntry", "ScoreErrors", "score_save", "scores_save"]


def _refresh(round_: AcceptanceRound, enrollment_ids: list[int] | None = None) -> None:
    """Mark the stored results stale in the same transaction as the change (the whole round is
    recomputed at once when no communities are named)."""
    from civicmark.scoring.materialize import mark, refresh

    if enrollment_ids is None:
        refresh(round_)
    else:
        mark(round_, enrollment_ids)


def _check_open(round_: AcceptanceRound, enrollment: Enrollment, subject: Any) -> None:
    """An item or veto of the campaign's standard, a community of the campaign, an open round."""
    if (
        enrollment.campaign_id != round_.campaign_id
        or subject.standard_id != round_.campaign.standard_id
    ):
        raise ApplicationError(_("That item or community is not part of this round."))
    if panels.round_sealed_for(round_, enrollment.community):
        raise ApplicationError(_("The round is finalised: its scores are locked."))


def _still_open(round_: AcceptanceRound, enrollment: Enrollment) -> None:
    """The seal read again inside the writer's transaction: the round object a request loaded
    may be older than a sign-off made since (and a sign-off waits for this write:
    `sealing`)."""
    sealing.hold_for_writing(round_)
    fresh = AcceptanceRound.objects.select_related("campaign__division").get(pk=round_.pk)
    if panels.round_sealed_for(fresh, enrollment.community):
        raise ApplicationError(_("The round is finalised: its scores are locked."))


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
    occurrences: int | None = None,
    via: str = "web",
) -> Score | None:
    """Record what one assessor gave one item (`scores_save` with one entry). If someone saved in
    between, Conflict is raised and nothing changes; the score is returned (None when it was
    already as given)."""
    entry = ScoreEntry(item, points, not_applicable, reason, expected_version, occurrences)
    try:
        saved = scores_save(
            actor=actor, round_=round_, enrollment=enrollment, entries=[entry], via=via
        )
    except ScoreErrors as exc:
        raise exc.errors[item.pk] from None
    return saved[0] if saved else None


def scores_save(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    entries: list[ScoreEntry],
    via: str = "web",
) -> list[Score]:
    """Record what one assessor gave several items of one community, all or nothing, through the
    one writer (`scoring.writer.write`) with this app's access rules (`assessments.access`)."""
    return scores_write(
        actor=actor, round_=round_, enrollment=enrollment, entries=entries, via=via
    ).saved


def scores_write(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    entries: list[ScoreEntry],
    via: str = "web",
) -> Written:
    """`scores_save`, answering with all the writer knows: also what the assessor now holds in
    the community (the page's progress, with no second read of his scores)."""
    return write(
        actor=actor, round_=round_, enrollment=enrollment, entries=entries, access=ACCESS, via=via
    )


SELF_ASSESSABLE = ("enrolled", "self_assessing", "returned")


class SelfEntry(NamedTuple):
    """One item of the self-assessment as given: its points and why."""

    item: Item
    points: Decimal
    explanation: str = ""


class SelfScoreErrors(ApplicationError):
    """Entries of a page refused, by item id; nothing of the page was saved."""

    def __init__(self, errors: dict[int, str]) -> None:
        super().__init__(_("Nothing was saved: correct the items marked."))
        self.errors = errors


def self_score_save(
    *, actor: Any, enrollment: Enrollment, item: Item, points: Decimal, explanation: str = ""
) -> None:
    """The community scores itself, item by item, until it submits."""
    try:
        self_scores_save(
            actor=actor, enrollment=enrollment, entries=[SelfEntry(item, points, explanation)]
        )
    except SelfScoreErrors as exc:
        raise ApplicationError(exc.errors[item.pk]) from None


def _self_refusal(enrollment: Enrollment, entry: SelfEntry) -> str | None:
    item, points = entry.item, entry.points
    if item.standard_id != enrollment.campaign.standard_id:
        return _("That item is not in this campaign's standard.")
    if not (0 <= points <= item.points) or points % HALF:
        return _("Points for %(code)s go from 0 to %(max)s in steps of 0.5.") % {
            "code": item.code,
            "max": item.points,
        }
    return None


def self_scores_save(
    *, actor: Any, enrollment: Enrollment, entries: list[SelfEntry], via: str = "web"
) -> list[SelfScore]:
    """The community scores itself, a page of items at once or one as it is given, until it
    submits: all entries or none (SelfScoreErrors names each refused item). An entry equal to
    what is stored writes nothing and no audit event (a card sent twice is one save)."""
    community = enrollment.community
    if not (authz.is_community_staff(actor, community) or authz.is_super(actor)):
        raise NotAllowed(_("Only the community's own staff score its self-assessment."))
    errors = {
        e.item.pk: refusal for e in entries if (refusal := _self_refusal(enrollment, e)) is not None
    }
    if errors:
        raise SelfScoreErrors(errors)
    saved = []
    with transaction.atomic():
        # Read the status under a lock: a submission in between closes the self-assessment.
        current = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if current.status not in SELF_ASSESSABLE:
            raise ApplicationError(
                _("The self-assessment was submitted; it can change only if it is returned.")
            )
        stored = {s.item_id: s for s in SelfScore.objects.filter(enrollment=enrollment)}
        for entry in entries:
            explanation = entry.explanation.strip()
            before = stored.get(entry.item.pk)
            if before is not None and (before.points, before.explanation) == (
                entry.points,
                explanation,
            ):
                continue
            score, _created = SelfScore.objects.update_or_create(
                enrollment=enrollment,
                item=entry.item,
                defaults={"points": entry.points, "explanation": explanation},
            )
            saved.append(score)
            audit.record(
                actor=actor,
                via=via,
                action="self_score.saved",
                object_type="enrollment",
                object_ref=f"{enrollment.campaign.slug}/{community.code}",
                scope_path=community.path,
                summary=entry.item.code,
                after={"points": str(entry.points), "explanation": explanation},
            )
    return saved


def veto_finding_record(
    *, actor: Any, round_: AcceptanceRound, enrollment: Enrollment, veto: Any, reason: str
) -> VetoFinding:
    """An assessor records that a one-vote veto condition of his department occurred: kept for
    the callers that have not moved to `scoring.findings.veto_record` (the sheet import)."""
    from civicmark.scoring.findings import veto_record

    return veto_record(
        actor=actor,
        round_=round_,
        enrollment=enrollment,
        veto=veto,
        reason=reason,
        access=ACCESS,
        via="web",
    )


def round_finalise(
    *, actor: Any, round_: AcceptanceRound, county: Any = None, via: str = "web"
) -> AcceptanceRound:
    """Sign off a round: only when every applicable item of every community it covers is scored.

    In a round split into county parts (ADR 12), a county officer, or anyone naming a county,
    signs off that county's part only (`part_services.round_part_finalise`); the city signs off
    every part at once."""
    from django.utils import timezone

    from civicmark.scoring.rounds import round_results

    county = part_services.part_for_actor(actor, round_, county)
    if county is not None:
        if authz.can_lead_round(actor, round_, county=county) and not parts.part_sealed(
            round_, county.path
        ):
            _refuse_disagreements(
                round_,
                panels.covered(round_)
                .filter(community__path__startswith=county.path)
                .values_list("pk", flat=True),
            )
        part_services.round_part_finalise(actor=actor, round_=round_, county=county, via=via)
        return round_
    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the round's lead office may finalise it."))
    if refusal := panels.lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    if round_.finalised_at is not None:
        raise ApplicationError(_("The round is already finalised."))
    enrollments = list(panels.covered(round_).select_related("community"))
    if not enrollments:
        raise ApplicationError(_("The round covers no community."))
    covered = {e.pk for e in enrollments}
    if part_services.unscored(round_, enrollments):
        raise ApplicationError(part_services.still_unscored(round_, enrollments))
    _refuse_disagreements(round_, covered)
    results = round_results(round_, detail=True)  # every lost point becomes a task
    with transaction.atomic():
        sealing.hold_for_sign_off(round_)  # the score writes under way commit first
        round_.finalised_at = timezone.now()
        round_.save(update_fields=["finalised_at"])
        sealed = part_services.seal_parts(actor, round_, round_.finalised_at)
        created = part_services.rectifications_for(round_, results, covered)
        followers.follow_county_round(actor=actor, round_=round_, via=via)
        audit.record(
            actor=actor,
            via=via,
            action="round.finalised",
            object_type="round",
            object_ref=f"{round_.campaign.slug}/{round_.number}",
            scope_path=round_.campaign.division.path,
            summary=round_.name,
            after={"communities": len(covered), "rectifications": created, "parts": sealed},
        )
    return round_


def _refuse_disagreements(round_: AcceptanceRound, enrollment_ids: Any) -> None:
    """A round (or part) is not finalised while its assessors disagree on an item its lead has
    not settled: the refusal names each (community, item, the assessors' values)."""
    from civicmark.scoring.disagreements import describe, open_disagreements

    found = open_disagreements(round_, list(enrollment_ids))
    if found:
        raise ApplicationError(
            _("Assessors disagree and the lead has not settled it: %s.") % describe(found)
        )


def round_reopen(
    *, actor: Any, round_: AcceptanceRound, reason: str, county: Any = None, via: str = "web"
) -> AcceptanceRound:
    """Reopen a finalised round, with a reason (audited); in a split round, a county officer
    (or anyone naming a county) reopens that county's part only."""
    county = part_services.part_for_actor(actor, round_, county)
    if county is not None:
        part_services.round_part_reopen(
            actor=actor, round_=round_, county=county, reason=reason, via=via
        )
        round_.refresh_from_db(fields=["finalised_at"])
        return round_
    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the round's lead office may reopen it."))
    if refusal := panels.lead_refusal(actor, round_):
        raise NotAllowed(refusal)
    if round_.finalised_at is None:
        raise ApplicationError(_("The round is not finalised."))
    if not reason.strip():
        raise ApplicationError(_("Say why the round is reopened."))
    with transaction.atomic():
        before = {"finalised_at": round_.finalised_at.isoformat()}
        round_.finalised_at = None
        round_.save(update_fields=["finalised_at"])
        part_services.unseal_parts(round_)
        followers.follow_county_round(actor=actor, round_=round_, via=via)
        audit.record(
            actor=actor,
            via=via,
            action="round.reopened",
            object_type="round",
            object_ref=f"{round_.campaign.slug}/{round_.number}",
            scope_path=round_.campaign.division.path,
            summary=reason.strip()[:255],
            before=before,
            after={"reason": reason.strip()},
        )
    return round_


def rectification_open(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    reason: str,
    due_on: Any,
    via: str = "web",
) -> Any:
    """A rectification opened by hand, with its deadline, outside a round's sign-off (which opens
    its own in `part_services.rectifications_for`): the city's failed re-check of a title
    (results.titles) names no item and no veto. The round's lead office opens it; it joins the
    community's rectification list and to-do, and the one overdue rule applies to it."""
    from civicmark.assessments.models import Rectification

    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the round's lead office opens a rectification."))
    if enrollment.campaign_id != round_.campaign_id:
        raise ApplicationError(_("That community is not part of this round."))
    if not reason.strip():
        raise ApplicationError(_("Say what must be rectified."))
    if due_on is None:
        raise ApplicationError(_("Set the date the rectification is due."))
    with transaction.atomic():
        rectification = Rectification.objects.create(
            round=round_, enrollment=enrollment, reason=reason.strip(), due_on=due_on
        )
        audit.record(
            actor=actor,
            via=via,
            action="rectification.opened",
            object_type="enrollment",
            object_ref=str(rectification.public_id),
            scope_path=enrollment.community.path,
            summary=reason.strip()[:255],
            after={"reason": reason.strip(), "due_on": due_on.isoformat()},
        )
    return rectification


def rectification_update(*, actor: Any, rectification: Any, status: str, note: str) -> Any:
    """The community reports what it fixed; the town (or anyone above) may do the same."""
    from civicmark.assessments.models import RectificationStatus

    community = rectification.enrollment.community
    if refusal := rectification_refusal(actor, community):
        raise NotAllowed(refusal)
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


def evidence_attach(
    *,
    actor: Any,
    enrollment: Enrollment,
    items: list[Item],
    upload: Any,
    supersedes: Any = None,
    via: str = "web",
) -> Any:
    """Store one document for the given items of the community's self-assessment.

    When (the rule, `assessments.evidence.evidence_refusal`): while the community prepares its
    self-assessment (enrolled, self-assessing, returned to it); after that only while an
    acceptance round that covers it is open for it (`panels.round_sealed_for` says no). Refused
    once it is proposed for commendation or commended, while it is submitted to the town and no
    round covers it yet, and once every round that covers it is signed off, until one of them is
    reopened. The rule is read again under the enrollment's lock; a refused file is not kept.

    Nothing is replaced: a corrected document names the one it `supersedes` (a document of the
    same community that has no newer version yet); it proves the same items unless others are
    chosen, and the old one stays stored, downloadable and linked to it."""
    from django.core.files.storage import default_storage

    from civicmark.assessments.models import Evidence
    from civicmark.core.files import store_upload

    community = enrollment.community
    if not authz.is_community_staff(actor, community):
        raise NotAllowed(_("Only the community's own staff add its evidence."))
    if supersedes is not None and supersedes.enrollment_id != enrollment.pk:
        raise ApplicationError(_("A new version replaces a document of the same community."))
    if not items and supersedes is not None:
        items = list(supersedes.items.all())
    if not items or any(i.standard_id != enrollment.campaign.standard_id for i in items):
        raise ApplicationError(_("Choose the items this document proves."))
    refusal = evidence_refusal(enrollment)
    if refusal:
        raise ApplicationError(refusal)
    stored = store_upload(upload, folder=f"evidence/{enrollment.campaign.slug}/{community.code}")
    try:
        with transaction.atomic():
            # Read again under the lock: a workflow step or a sign-off made meanwhile counts.
            current = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
            current.community, current.campaign = community, enrollment.campaign
            refusal = evidence_refusal(current)
            if refusal:
                raise ApplicationError(refusal)
            if supersedes is not None and Evidence.objects.filter(supersedes=supersedes).exists():
                raise _AlreadySuperseded
            evidence = Evidence.objects.create(
                enrollment=enrollment,
                uploaded_by=actor,
                supersedes=supersedes,
                **stored.fields(),
            )
            evidence.items.set(items)
            audit.record(
                actor=actor,
                via=via,
                action="evidence.added",
                object_type="enrollment",
                object_ref=f"{enrollment.campaign.slug}/{community.code}",
                scope_path=community.path,
                summary=stored.name,
                after={
                    "sha256": stored.sha256,
                    "items": [i.code for i in items],
                    "supersedes": str(supersedes.public_id) if supersedes is not None else None,
                },
            )
    except (ApplicationError, _AlreadySuperseded, IntegrityError) as exc:
        default_storage.delete(stored.path)  # refused: no file is left behind
        if isinstance(exc, ApplicationError):
            raise
        raise ApplicationError(
            _("“%s” already has a newer version: upload a new version of that one.")
            % supersedes.name
        ) from None
    return evidence


def evidence_remove(*, actor: Any, evidence: Any) -> None:
    """Take back a document attached by mistake (the wrong photo, the wrong item), while the
    community still prepares its self-assessment: enrolled, self-assessing, or returned to it.

    Refused once it is submitted: from then on the town, the county and the rounds judge what
    was sent, and a correction is a new version beside the old (`evidence_attach`). Refused, even
    once the self-assessment is returned, for a document a signed-off round judged (ADR 15;
    `evidence.removal_refusal`). Refused for a document that already has a newer version (the
    newer one is removed first). The removal
    is audited with the document's name, fingerprint and items; its file is deleted once the
    removal is committed."""
    from django.core.files.storage import default_storage

    from civicmark.assessments.evidence import removal_refusal
    from civicmark.assessments.models import Evidence

    enrollment = evidence.enrollment
    community = enrollment.community
    if not authz.is_community_staff(actor, community):
        raise NotAllowed(_("Only the community's own staff remove its evidence."))
    with transaction.atomic():
        # Read again under the lock: a submission or a sign-off made meanwhile counts.
        current = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        current.community, current.campaign = community, enrollment.campaign
        if refusal := removal_refusal(evidence, current):
            raise ApplicationError(refusal)
        if Evidence.objects.filter(supersedes=evidence).exists():
            raise ApplicationError(
                _("“%s” has a newer version: remove the newer one first.") % evidence.name
            )
        items = sorted(evidence.items.values_list("code", flat=True))
        path = evidence.path
        audit.record(
            actor=actor,
            action="evidence.removed",
            object_type="enrollment",
            object_ref=f"{enrollment.campaign.slug}/{community.code}",
            scope_path=community.path,
            summary=evidence.name,
            before={
                "name": evidence.name,
                "sha256": evidence.sha256,
                "items": items,
                "uploaded_at": evidence.uploaded_at.isoformat(),
            },
        )
        evidence.delete()
        transaction.on_commit(lambda: default_storage.delete(path))


class _AlreadySuperseded(Exception):
    """The document named as superseded already has a newer version (checked, or met at the
    one-successor constraint when two uploads race)."""


def rectification_attach(*, actor: Any, rectification: Any, upload: Any) -> Any:
    """A document that shows the fix: the community's staff, or the town above it, adds it."""
    from civicmark.assessments.models import RectificationEvidence
    from civicmark.core.files import store_upload

    enrollment = rectification.enrollment
    community = enrollment.community
    if rectification.round.campaign_id != enrollment.campaign_id:
        raise NotAllowed(_("You may not update this rectification."))
    if refusal := rectification_refusal(actor, community):
        raise NotAllowed(refusal)
    stored = store_upload(
        upload, folder=f"rectification/{enrollment.campaign.slug}/{community.code}"
    )
    with transaction.atomic():
        record = RectificationEvidence.objects.create(
            rectification=rectification, uploaded_by=actor, **stored.fields()
        )
        audit.record(
            actor=actor,
            action="rectification.evidence_added",
            object_type="enrollment",
            object_ref=str(rectification.public_id),
            scope_path=community.path,
            summary=stored.name,
            after={"sha256": stored.sha256, "rectification": str(rectification)},
        )
    return record


def _coverage_checked(
    round_: AcceptanceRound, covers: list[Enrollment], county: Any, confirmed: bool
) -> list[Enrollment]:
    change = coverage.coverage_change(round_, covers, county)
    if not confirmed:
        coverage.refuse_unconfirmed_removal(change, round_)
    return change.covers


def round_configure(
    *,
    actor: Any,
    round_: AcceptanceRound,
    opens_on: Any,
    closes_on: Any,
    combine_rule: str,
    rescore: str,
    lead: Any,
    panel: list[Any],
    covers: list[Enrollment],
    county: Any = None,
    confirm_removal: bool = False,
    via: str = "web",
) -> AcceptanceRound:
    """The lead sets a round's window, rules, lead, panel and coverage (empty lists keep the
    defaults). A finalised round is not changed: reopen it first.

    Coverage (`coverage.coverage_change`): ticks equal to the defaults store no list; a change
    that takes communities out of the round is refused, naming them, unless `confirm_removal`.

    In a round split into county parts (ADR 12), a county officer, or anyone naming a county,
    sets that county's part only: its rule, panel members appointed in it and its communities
    (`part_services.round_part_configure`); the window, re-scoring rule and lead stay the
    round's and must come back unchanged."""
    from civicmark.campaigns.models import CombineRule, Rescore

    county = part_services.part_for_actor(actor, round_, county)
    if county is not None:
        if not authz.can_lead_round(actor, round_, county=county):
            raise NotAllowed(_("Only the round's lead office may change it."))
        covers = _coverage_checked(round_, covers, county, confirm_removal)
        if (opens_on, closes_on, rescore, getattr(lead, "pk", None)) != (
            round_.opens_on,
            round_.closes_on,
            round_.rescore,
            round_.lead_id,
        ):
            raise NotAllowed(
                _("Only the round's lead office changes its window, re-scoring rule and lead.")
            )
        part_services.round_part_configure(
            actor=actor,
            round_=round_,
            county=county,
            combine_rule=combine_rule,
            panel=panel,
            covers=covers,
            via=via,
        )
        return round_
    if not authz.can_lead_round(actor, round_):
        raise NotAllowed(_("Only the round's lead office may change it."))
    for who in (actor, lead):
        if who is not None and (refusal := panels.lead_refusal(who, round_)):
            raise NotAllowed(refusal)
    if round_.finalised_at is not None:
        raise ApplicationError(_("The round is finalised: reopen it before changing it."))
    if opens_on is None or closes_on is None or opens_on > closes_on:
        raise ApplicationError(_("The round must open on or before the day it closes."))
    if combine_rule not in CombineRule.values:
        raise ApplicationError(_("Unknown combining rule %s.") % combine_rule)
    if rescore not in Rescore.values:
        raise ApplicationError(_("Unknown re-scoring rule %s.") % rescore)
    allowed = set(panels.candidates(round_).values_list("pk", flat=True))
    if any(u.pk not in allowed for u in panel):
        raise ApplicationError(
            _("Only assessors appointed within or above the campaign sit on its panel.")
        )
    if lead is not None and lead.pk not in set(
        panels.lead_candidates(round_).values_list("pk", flat=True)
    ):
        raise ApplicationError(_("The lead must be an officer of the campaign's county or city."))
    if any(e.campaign_id != round_.campaign_id for e in covers):
        raise ApplicationError(_("A round covers only the campaign's communities."))
    if round_.scores.exclude(enrollment__in=covers).exists() and covers:
        raise ApplicationError(
            _("Communities already scored in this round stay covered: keep them in the list.")
        )
    part_services.check_whole_change(round_, panel, covers)
    covers = _coverage_checked(round_, covers, None, confirm_removal)

    def state() -> dict[str, Any]:
        return {
            "opens_on": str(round_.opens_on),
            "closes_on": str(round_.closes_on),
            "combine_rule": round_.combine_rule,
            "rescore": round_.rescore,
            "lead": round_.lead.username if round_.lead else None,
            "panel": sorted(round_.panel.values_list("username", flat=True)),
            "covers": sorted(round_.covers.values_list("community__code", flat=True)),
        }

    with transaction.atomic():
        before = state()
        rule_changed = round_.combine_rule != combine_rule
        round_.opens_on, round_.closes_on = opens_on, closes_on
        round_.combine_rule, round_.rescore, round_.lead = combine_rule, rescore, lead
        round_.save(update_fields=["opens_on", "closes_on", "combine_rule", "rescore", "lead"])
        round_.panel.set(panel)
        round_.covers.set(covers)
        parts.forget(round_)  # what this object knew of the lists is out of date
        if rule_changed:
            _refresh(round_)
        after = state()
        audit.record(
            actor=actor,
            via=via,
            action="round.configured",
            object_type="round",
            object_ref=f"{round_.campaign.slug}/{round_.number}",
            scope_path=round_.campaign.division.path,
            summary=round_.name,
            before=before,
            after=after,
        )
    return round_
