"""When a community may still add evidence, and which version of it a signed-off round judged.

The rule (issue 14, "signed off means sealed"). A community adds evidence:

- while it prepares its self-assessment (enrolled, self-assessing, or returned to it): the
  evidence is still being gathered;
- after that, only while an acceptance round that covers it is open for it (not sealed, as
  `panels.round_sealed_for` answers): its assessors are still judging, and a document added then
  is a new version that they see beside the one before.

It is refused once the community is proposed for commendation or commended (nothing is judged
any more), while its self-assessment is with the town and no round covers it yet (the town
reviews what was submitted; it returns the self-assessment if something is missing), and once
every round that covers it is signed off, until the lead of one of them reopens it with a reason.

Evidence is never replaced. A corrected document is a new `Evidence` that supersedes the one
before it; the old one stays stored and downloadable, so a signed-off round's judgement can
always be read against the documents it saw: the assessor's page marks every document uploaded
after the round was signed off.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from civicmark.assessments import panels
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.scoring.models import Score, VetoFinding

GATHERING = ("enrolled", "self_assessing", "returned")
CLOSED = ("proposed", "commended")


def evidence_refusal(enrollment: Enrollment) -> str | None:
    """Why no evidence may be attached to this community's self-assessment now, or None."""
    community = enrollment.community
    if enrollment.status in GATHERING:
        return None
    if enrollment.status in CLOSED:
        return _(
            "%s is proposed for commendation or commended: its evidence stays as it was judged."
        ) % (community.name)
    for round_ in enrollment.campaign.rounds.all():
        if panels.is_covered(
            round_, enrollment.pk, status=enrollment.status
        ) and not panels.round_sealed_for(round_, community):
            return None
    return _(
        "No open acceptance round covers %s: evidence is added while the self-assessment is "
        "prepared or while a round that covers the community is open (a signed-off round can be "
        "reopened by its lead, with a reason)."
    ) % (community.name)


def removal_refusal(evidence: Any, enrollment: Enrollment) -> str | None:
    """Why this document may not be taken back now, or None. `enrollment` is the document's, as
    read under its lock.

    A wrong attachment is taken back only while the community prepares its self-assessment, and
    never once a round judged it: a self-assessment returned after a round (the county returns it
    after its pre-acceptance) is prepared again, but what a round saw stays stored, as ADR 15
    keeps it; a correction is then a new version beside it. A round saw it when it was signed off
    for the community after the upload, or, still open, when an assessor scored the community or
    recorded a veto there since the upload (his judgement rests on it)."""
    community = enrollment.community
    if enrollment.status not in GATHERING:
        return _(
            "“%(name)s” can no longer be removed: the self-assessment of %(community)s was "
            "submitted, and what was submitted is judged as it was sent. Upload a new version "
            "of it instead."
        ) % {"name": evidence.name, "community": community.name}
    for round_ in enrollment.campaign.rounds.all():
        signed_off = judged_at(round_, community)
        if (
            signed_off is not None
            and evidence.uploaded_at <= signed_off
            and panels.is_covered(round_, enrollment.pk, status=enrollment.status)
        ):
            return _(
                "“%(name)s” can no longer be removed: %(round)s judged it and was signed off, and "
                "what a signed-off round judged stays as it was. Upload a new version of it "
                "instead."
            ) % {"name": evidence.name, "round": round_.name}
    since = evidence.uploaded_at
    if (
        Score.objects.filter(enrollment=enrollment, updated_at__gte=since).exists()
        or VetoFinding.objects.filter(enrollment=enrollment, created_at__gte=since).exists()
    ):
        return _(
            "“%(name)s” can no longer be removed: assessors have judged %(community)s since it "
            "was attached, and what a round judged stays as it was. Upload a new version of it "
            "instead."
        ) % {"name": evidence.name, "community": community.name}
    return None


def judged_at(round_: AcceptanceRound, community: Any) -> datetime | None:
    """When this round was signed off for the community (its county's part, in a round split
    into county parts), or None while it is open for it."""
    if not panels.round_sealed_for(round_, community):
        return None
    county = parts.county_path(community.path) if parts.is_split(round_) else None
    part = parts.part_map(round_).get(county) if county else None
    if part is not None and part.finalised_at is not None:
        return part.finalised_at
    return round_.finalised_at


def mark_judged(round_: AcceptanceRound, community: Any, files: Iterable[Any]) -> None:
    """Mark on each document (`after_judgement`) whether it was uploaded after this round was
    signed off for the community: the round did not judge it."""
    signed_off = judged_at(round_, community)
    for evidence in files:
        evidence.after_judgement = signed_off is not None and evidence.uploaded_at > signed_off


def evidence_judged(round_: AcceptanceRound, enrollment: Enrollment) -> list[Any]:
    """The community's documents, oldest first, each with the items it proves, the version it
    replaces and the one that replaced it, marked as `mark_judged` does (three queries)."""
    from civicmark.assessments.models import Evidence

    files = list(
        Evidence.objects.filter(enrollment=enrollment)
        .select_related("supersedes", "superseded_by")
        .prefetch_related("items")
        .order_by("uploaded_at", "pk")
    )
    mark_judged(round_, enrollment.community, files)
    return files
