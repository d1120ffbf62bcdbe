"""What waits on the public notices (the home page's to-do, ADR 18 and 22): for the city, the
objections still to decide on the notices of the rounds the person leads (a naming stays open
until they are decided, so they are late once their notice has closed); for a community's
staff, an objection the city upheld against its naming, with the city's reason and what
follows, while the naming stands taken off."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments import notice
from civicmark.assessments.models import ProposedFor
from civicmark.campaigns.models import Campaign
from civicmark.core.todo import Line, Todo
from civicmark.divisions.models import Level


def todos_for(*, user: Any, campaign: Campaign, today: date) -> list[Todo]:
    if not getattr(user, "pk", None):
        return []
    return _upheld(user, campaign) + _to_decide(user, campaign, today) + _awaiting(user, campaign)


LINES = 8  # the first few communities on the home page; the link leads to the rest


def _awaiting(user: Any, campaign: Campaign) -> list[Todo]:
    """Work waiting for the city: communities named or proposed that stand on no notice yet (a
    standard unit an appeal raised after the notice, the walk's d-city-30), for the lead of the
    campaign's latest finalised municipal round, linked to its notices page. One query."""
    rounds = campaign.rounds.filter(level=Level.CITY, finalised_at__isnull=False).order_by(
        "-number"
    )
    round_ = next((r for r in rounds if notice.may_lead(user, r)), None)
    if round_ is None:
        return []
    waiting = list(notice.awaiting_notice(campaign))
    if not waiting:
        return []
    url = reverse("round_notices", args=[campaign.slug, round_.number])
    return [
        Todo(
            key="notice_awaiting",
            title=_("Communities awaiting a public notice"),
            count=len(waiting),
            url=url,
            detail=_("A naming or a commendation is final only after its public notice."),
            lines=tuple(
                Line(
                    str(e.community.name),
                    url=url,
                    note=str(
                        ProposedFor.COMMENDATION.label
                        if e.status == "proposed"
                        else ProposedFor.STANDARD.label
                    ),
                )
                for e in waiting[:LINES]
            ),
        )
    ]


def _upheld(user: Any, campaign: Campaign) -> list[Todo]:
    """The community's staff are told of an objection upheld against its naming: the walk
    found the result page still saying "standard unit, may be proposed" and no word at home."""
    if Role.COMMUNITY_STAFF not in authz.roles_of(user):
        return []
    own = [
        e
        for e in campaign.enrollments.select_related("community").filter(
            authz.within_scope(user, "community__path")
        )
        if authz.is_community_staff(user, e.community)
    ]
    found = [(e, u) for e in own for u in notice.upheld_against(e)]
    if not found:
        return []

    def url(enrollment: Any, upheld: notice.Upheld) -> str:
        round_ = upheld.objection.entry.notice.round
        return reverse(
            "community_result", args=[campaign.slug, round_.number, enrollment.community.code]
        )

    return [
        Todo(
            key="notice_upheld",
            title=_("An objection to your naming was upheld"),
            count=len(found),
            url=url(*found[0]),
            detail=found[0][1].what_follows,
            lines=tuple(
                Line(
                    str(e.community.name),
                    url=url(e, u),
                    note=_("the city's reason: %s") % u.objection.reason,
                )
                for e, u in found
            ),
        )
    ]


def _to_decide(user: Any, campaign: Campaign, today: date) -> list[Todo]:
    pending = notice.pending_for_lead(user, campaign)
    if not pending:
        return []

    def url(objection: Any) -> str:
        return reverse("notice_detail", args=[campaign.slug, objection.entry.notice.public_id])

    return [
        Todo(
            key="notice_objections",
            title=_("Objections to decide"),
            count=len(pending),
            url=url(pending[0]),
            detail=_(
                "The naming of a community objected to is final only once its objections are "
                "decided."
            ),
            late=any(o.entry.notice.closes_on < today for o in pending),
            lines=tuple(
                Line(
                    str(o.entry.enrollment.community.name),
                    url=url(o),
                    note=o.reference,
                    late=o.entry.notice.closes_on < today,
                )
                for o in pending
            ),
        )
    ]
