"""The key figures on top of the leader's dashboard (issue 16): how many communities are
enrolled, pre-accepted by their county, standard units, vetoed, and how many rectifications are
overdue, each with a sentence saying what it counts. Within what the viewer may see; three
queries whatever the number of communities (the rounds' coverage is kept on the round objects
the dashboard's charts share).

Standard units and vetoes are read from the stored results (the scoring reader), as the
workflow decides them: a community's latest municipal round with a complete result speaks for
it, so that a November that re-scores only the rectifying communities does not hide July's
standard units, and a community still being re-scored keeps what July found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.assessments import panels
from civicmark.assessments.models import (
    Rectification,
    overdue_rectifications_q,
)
from civicmark.assessments.todo import PRE_ACCEPTED
from civicmark.campaigns.models import AcceptanceRound, Campaign
from civicmark.divisions.models import Level
from civicmark.scoring import reader
from civicmark.scoring.rules import Outcome


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int
    meaning: str  # what is counted, in one sentence, shown under the number
    url: str = ""
    alarm: bool = False  # a number someone must act on (shown red when not zero)


def latest_outcomes(user: Any, rounds: list[AcceptanceRound]) -> dict[int, str]:
    """Enrollment id -> the outcome of its latest round (of those given) with a complete result
    covering it, for the communities the viewer may see: one query over the stored results."""
    if not rounds:
        return {}
    coverage = Q(pk__in=[])
    for r in rounds:
        coverage |= Q(round=r) & panels.covered_results_q(r)
    number = {r.pk: r.number for r in rounds}
    found: dict[int, tuple[int, str]] = {}
    rows = (
        reader.stored_in(rounds)
        .filter(authz.within_scope(user, "enrollment__community__path"), coverage)
        .exclude(outcome=Outcome.INCOMPLETE)
        .values_list("enrollment_id", "round_id", "outcome")
    )
    for enrollment, round_id, outcome in rows:
        if enrollment not in found or found[enrollment][0] < number[round_id]:
            found[enrollment] = (number[round_id], outcome)
    return {e: outcome for e, (_n, outcome) in found.items()}


def key_figures(
    user: Any, campaign: Campaign, rounds: list[AcceptanceRound], today: date
) -> list[Figure]:
    counts = campaign.enrollments.filter(authz.within_scope(user, "community__path")).aggregate(
        enrolled=Count("id"), pre_accepted=Count("id", filter=Q(status__in=PRE_ACCEPTED))
    )
    municipal = [r for r in rounds if r.level == Level.CITY]
    outcomes = list(latest_outcomes(user, municipal).values())
    overdue = Rectification.objects.filter(
        authz.within_scope(user, "enrollment__community__path"),
        overdue_rectifications_q(today),
        round__campaign=campaign,
    ).count()
    return [
        Figure(
            "enrolled",
            _("Enrolled"),
            counts["enrolled"],
            _("communities taking part in the campaign"),
        ),
        Figure(
            "pre-accepted",
            _("Pre-accepted"),
            counts["pre_accepted"],
            _("communities their county has pre-accepted and may report to the city"),
        ),
        Figure(
            "standard",
            _("Standard units"),
            outcomes.count(Outcome.STANDARD),
            _("communities whose latest complete municipal result is a standard unit"),
        ),
        Figure(
            "vetoed",
            _("Vetoed"),
            outcomes.count(Outcome.VETOED),
            _("communities whose latest complete municipal result is vetoed"),
            alarm=True,
        ),
        Figure(
            "overdue",
            _("Overdue rectifications"),
            overdue,
            _("findings still open after the date they were due to be rectified"),
            url=reverse("rectifications", args=[campaign.slug]),
            alarm=True,
        ),
    ]
