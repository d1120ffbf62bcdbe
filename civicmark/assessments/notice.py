"""The public notice before naming (公示, issue 17 item 5, ADR 22): who may, the window, what
a notice lists, and the one predicate of a final naming.

A finalised municipal round's lead (the city) publishes the list of the communities the round
names standard units and those proposed for commendation, for a window of working days from
publication; anyone may object to one community on it while the window is open. A naming is
final only when the community's latest notice has closed and every objection to it is decided
(`naming_refusal`, asked by the workflow's step to "commended" and by the certificates).

The writes live in `notice_services` (they take workflow steps, and the workflow asks this
module its guard: the two cannot be one module without a cycle).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments import panels
from civicmark.assessments.models import (
    NoticeEntry,
    Objection,
    ObjectionDecision,
    ProposedFor,
    PublicNotice,
)
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment
from civicmark.core import workdays
from civicmark.divisions.models import Level
from civicmark.scoring import reader
from civicmark.scoring.rules import Outcome

DEFAULT_WORKING_DAYS = 5
MIN_WORKING_DAYS, MAX_WORKING_DAYS = 5, 30
STATEMENT_MAX = 2000
# The states in which the workflow holds a community named by a municipal round.
NAMED = ("standard_unit", "proposed")


# --- who may --------------------------------------------------------------------------------


def lead_refusal(user: Any, round_: AcceptanceRound) -> str | None:
    """Why the person may not publish or decide this round's notices (None: he leads it)."""
    if round_.level != Level.CITY or not authz.can_lead_round(user, round_):
        return _("Only the municipal round's lead publishes its notice and decides objections.")
    # The municipal office, not a county officer named lead of the round: he would decide the
    # objections to his own county's communities, which no conflict rule (a community or town
    # tie) catches.
    path = round_.campaign.division.path
    if not authz.is_super(user) and not any(
        g.role == Role.CITY_ADMIN and path.startswith(g.path) for g in authz.grants(user)
    ):
        return _("Only the municipal office publishes a notice and decides objections.")
    return panels.lead_refusal(user, round_)


def may_lead(user: Any, round_: AcceptanceRound) -> bool:
    return lead_refusal(user, round_) is None


# --- the window -----------------------------------------------------------------------------


def window_closes(opens_on: dt.date, working_days: int) -> dt.date:
    """The last day of a window of `working_days` working days opening on `opens_on` (that day
    counted when it is a working day), by the official calendar when there is one."""
    return workdays.working_days_from(opens_on, working_days)


# --- what a notice lists --------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    enrollment: Enrollment
    proposed_for: str
    total: Decimal


def candidates(round_: AcceptanceRound) -> list[Candidate]:
    """The communities a new notice of this finalised round would list: those the round found a
    standard unit that the workflow holds as one (named: standard unit; proposed: for
    commendation), less those already standing on one of its notices for the same purpose (a
    community on a notice for commendation is on it for its naming too)."""
    results = {r.enrollment_id: r for r in reader.stored(round_) if r.outcome == Outcome.STANDARD}
    listed = NoticeEntry.objects.filter(notice__round=round_, withdrawn_at__isnull=True)
    any_purpose = set(listed.values_list("enrollment_id", flat=True))
    commendation = set(
        listed.filter(proposed_for=ProposedFor.COMMENDATION).values_list("enrollment_id", flat=True)
    )
    found = []
    for e in panels.covered(round_).filter(status__in=NAMED).select_related("community"):
        result = results.get(e.pk)
        if result is None:
            continue
        purpose = ProposedFor.COMMENDATION if e.status == "proposed" else ProposedFor.STANDARD
        already = commendation if purpose == ProposedFor.COMMENDATION else any_purpose
        if e.pk not in already:
            found.append(Candidate(e, purpose, result.total))
    return found


# --- the one predicate of a final naming ----------------------------------------------------


def _latest_entry(
    enrollment: Enrollment, *, commendation: bool, round_: AcceptanceRound | None = None
) -> NoticeEntry | None:
    entries = NoticeEntry.objects.filter(enrollment=enrollment).select_related("notice")
    if round_ is not None:
        entries = entries.filter(notice__round=round_)
    if commendation:
        entries = entries.filter(proposed_for=ProposedFor.COMMENDATION)
    else:
        # An upheld objection to a commendation declines the commendation, not the naming:
        # the community is listed again, as a standard unit, on the round's next notice.
        entries = entries.exclude(proposed_for=ProposedFor.COMMENDATION, withdrawn_at__isnull=False)
    return entries.order_by("-notice__opens_on", "-notice__id").first()


def naming_refusal(
    enrollment: Enrollment,
    *,
    commendation: bool = False,
    round_: AcceptanceRound | None = None,
    today: dt.date | None = None,
) -> str | None:
    """Why the community's naming (or, with `commendation`, its commendation) is not final yet,
    saying until when; None when its latest notice was not taken back by an upheld objection,
    and every notice that lists it has closed with every objection to it decided.

    `round_`: the naming by that round (its certificate): the latest entry is read among that
    round's notices, so that a later round naming the community again does not make final a
    finding an upheld objection took back."""
    today = today or timezone.localdate()
    entry = _latest_entry(enrollment, commendation=commendation, round_=round_)
    if entry is None:
        if commendation:
            return _("it has not been on a public notice as proposed for commendation yet")
        return _("it has not been on a public notice yet: the city publishes the list first")
    if entry.withdrawn_at is not None:
        return _("an objection to it was upheld: it was taken off the notice of %(date)s") % {
            "date": entry.notice.opens_on.isoformat()
        }
    # Every notice that still lists it, not the latest alone: a naming objected to on a first
    # notice is listed again on a second for its commendation, and neither the first notice's
    # longer window nor an objection still undecided on it may be forgotten (an objection upheld
    # once the community is commended would take nothing back).
    standing = NoticeEntry.objects.filter(enrollment=enrollment, withdrawn_at__isnull=True)
    closes = standing.aggregate(last=Max("notice__closes_on"))["last"]
    if closes is not None and today <= closes:
        return _("its public notice is open until %(date)s") % {"date": closes.isoformat()}
    pending = Objection.objects.filter(
        entry__in=standing, decision=ObjectionDecision.PENDING
    ).count()
    if pending:
        return _("%(n)d objection(s) to it on the public notice await the city's decision") % {
            "n": pending
        }
    return None


def naming_final(
    enrollment: Enrollment, *, commendation: bool = False, today: dt.date | None = None
) -> bool:
    return naming_refusal(enrollment, commendation=commendation, today=today) is None


def withdrawn_from(enrollment: Enrollment) -> AcceptanceRound | None:
    """The round whose notice an upheld objection took the community's naming off, when that is
    where its naming stands now (its latest naming entry is withdrawn); None otherwise."""
    latest = _latest_entry(enrollment, commendation=False)
    if latest is None or latest.withdrawn_at is None:
        return None
    return latest.notice.round


@dataclass(frozen=True)
class Upheld:
    """An objection the city upheld against a community's naming (or its commendation) that
    still says where the naming stands: its latest entry of that kind was taken off."""

    objection: Objection
    commendation: bool

    @property
    def what_follows(self) -> str:
        if self.commendation:
            return _(
                "The proposal to commend it is declined; its naming as a standard unit stands "
                "and goes on the round's next notice."
            )
        return _(
            "Its naming as a standard unit is taken back: it rectifies, and a later municipal "
            "round must assess it again and find it a standard unit."
        )


def upheld_against(enrollment: Enrollment) -> list[Upheld]:
    """The objections upheld against the community's latest naming and latest proposal for
    commendation, when that is where each stands now (ADR 22): what its staff are told."""
    found = []
    for commendation in (False, True):
        entry = _latest_entry(enrollment, commendation=commendation)
        if entry is None or entry.withdrawn_at is None:
            continue
        objection = (
            entry.objections.filter(decision=ObjectionDecision.UPHELD)
            .select_related("entry__notice__round")
            .order_by("-decided_at", "-id")
            .first()
        )
        if objection is not None:
            found.append(Upheld(objection, commendation))
    return found


def awaiting_notice(campaign: Campaign) -> QuerySet[Enrollment]:
    """The communities the workflow holds as named (standard unit) or proposed that stand on no
    notice of the campaign for that purpose: a standard unit an appeal raised after the notice,
    one proposed since, one named again after an upheld objection. One query over the workflow
    states and the entries, no results computed (the city's to-do asks it on every home page)."""
    standing = NoticeEntry.objects.filter(
        notice__round__campaign=campaign, withdrawn_at__isnull=True
    )
    return (
        Enrollment.objects.filter(campaign=campaign, status__in=NAMED)
        .exclude(Q(status="standard_unit") & Q(pk__in=standing.values("enrollment")))
        .exclude(
            Q(status="proposed")
            & Q(pk__in=standing.filter(proposed_for=ProposedFor.COMMENDATION).values("enrollment"))
        )
        .select_related("community")
        .order_by("community__path")
    )


# --- reads for the pages --------------------------------------------------------------------


def current_notices(today: dt.date | None = None) -> QuerySet[PublicNotice]:
    """The notices whose window is open today, for the public list."""
    today = today or timezone.localdate()
    return (
        PublicNotice.objects.filter(opens_on__lte=today, closes_on__gte=today)
        .select_related("round__campaign")
        .order_by("closes_on", "id")
    )


def public_entries(notice: PublicNotice) -> QuerySet[NoticeEntry]:
    """The notice's list as the public sees it: name, town, county, purpose, total."""
    return notice.entries.select_related("enrollment__community__parent__parent").order_by(
        "enrollment__community__path"
    )


def objections_of(notice: PublicNotice) -> QuerySet[Objection]:
    return (
        Objection.objects.filter(entry__notice=notice)
        .select_related("entry__enrollment__community", "decided_by")
        .order_by("received_at", "id")
    )


def pending_for_lead(user: Any, campaign: Any) -> list[Objection]:
    """Objections still to decide on the notices of the campaign's rounds this person leads."""
    pending = list(
        Objection.objects.filter(
            entry__notice__round__campaign=campaign, decision=ObjectionDecision.PENDING
        )
        .select_related("entry__notice__round__campaign", "entry__enrollment__community")
        .order_by("received_at", "id")
    )
    rounds: dict[int, bool] = {}
    mine = []
    for objection in pending:
        round_ = objection.entry.notice.round
        if round_.pk not in rounds:
            rounds[round_.pk] = may_lead(user, round_)
        if rounds[round_.pk]:
            mine.append(objection)
    return mine


# --- the throttle on objections -------------------------------------------------------------
# Per address and notice, in Django's shared cache (Redis when REDIS_URL is set), under a keyed
# hash of the address: the pattern of the survey codes' and sign-in throttles.


def _throttle_key(notice: PublicNotice, address: str) -> str:
    digest = salted_hmac("notice-objections", f"{notice.pk}/{address}").hexdigest()[:32]
    return f"notice-objections:{digest}"


def objection_wait(notice: PublicNotice, address: str) -> str | None:
    """What to tell a sender who has reached the limit for this notice, or None."""
    if int(cache.get(_throttle_key(notice, address), 0)) < settings.NOTICE_OBJECTIONS:
        return None
    minutes = max(1, settings.NOTICE_OBJECTION_WINDOW_SECONDS // 60)
    return _(
        "Too many objections have been sent to this notice from your connection. Wait "
        "%(minutes)d minutes, then send yours again."
    ) % {"minutes": minutes}


def objection_counted(notice: PublicNotice, address: str) -> None:
    """One more sent from this address to this notice, in a fixed window from the first. `incr`
    is atomic in Redis; a key that expires between `add` and `incr` starts again at one."""
    key, window = _throttle_key(notice, address), settings.NOTICE_OBJECTION_WINDOW_SECONDS
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, window)
