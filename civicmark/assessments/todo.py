"""What is open for a person in a campaign's acceptance work, by the roles he holds.

Every entry is read within the person's scope (`authz.within_scope`) and offered only where the
workflow's own rule lets him act (`workflow.may_take`, `authz.can_lead_round`, the panel), so a
to-do never names a community he could not open or a step he could not take. The queries are
per campaign and per round, never per community: a city's list costs what a town's does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments import panels
from civicmark.assessments.models import (
    Rectification,
    RectificationStatus,
    SelfScore,
    overdue_rectifications_q,
)
from civicmark.assessments.workflow import State, latest_return, may_take, why_not
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment
from civicmark.core.todo import Figure, Line, Todo
from civicmark.scoring.disagreements import open_disagreements
from civicmark.scoring.models import Score

LINES = 8  # the first few of a kind on the home page; the link shows them all
TO_FINISH = (State.ENROLLED, State.SELF_ASSESSING, State.RETURNED)
# A community in one of these states has passed its county's pre-acceptance: the workflow
# never takes it back below that step (the to-do and the leader's key figures count alike).
PRE_ACCEPTED = (
    State.COUNTY_PRE_ACCEPTED,
    State.REPORTED,
    State.STANDARD_UNIT,
    State.NOT_REACHED,
    State.VETOED,
    State.RECTIFYING,
    State.PROPOSED,
    State.COMMENDED,
    State.TITLE_WITHDRAWN,
)
STANDARD_UNITS = (State.STANDARD_UNIT, State.PROPOSED, State.COMMENDED)
LEADING = {Role.COUNTY_OFFICER, Role.CITY_ADMIN}


def todos_for(*, user: Any, campaign: Campaign, today: date) -> list[Todo]:
    """The person's open acceptance work in the campaign, the kinds his roles do."""
    roles = authz.roles_of(user)
    found: list[Todo] = []
    if Role.COMMUNITY_STAFF in roles:
        found += _community(user, campaign, today)
    found += _steps(user, campaign)
    if authz.is_super(user) or roles & LEADING:
        found += _rounds_to_lead(user, campaign, today)
    if authz.is_super(user) or roles & (LEADING | {Role.TOWN_OFFICER}):
        found += _overdue_rectifications(user, campaign, today)
    if Role.ASSESSOR in roles:
        found += _to_score(user, campaign, today)
    return found


# -- community staff ---------------------------------------------------------------------------


def _own(user: Any, campaign: Campaign) -> list[Enrollment]:
    return [
        e
        for e in campaign.enrollments.select_related("community", "campaign__standard").filter(
            authz.within_scope(user, "community__path")
        )
        if authz.is_community_staff(user, e.community)
    ]


def _community(user: Any, campaign: Campaign, today: date) -> list[Todo]:
    found: list[Todo] = []
    for enrollment in _own(user, campaign):
        found += _self_assessment(user, campaign, enrollment)
        found += _returned(campaign, enrollment)
        found += _rectifications_due(campaign, enrollment, today)
    return found


def _self_assessment(user: Any, campaign: Campaign, enrollment: Enrollment) -> list[Todo]:
    if enrollment.status not in TO_FINISH:
        return []
    total = campaign.standard.items.count()
    done = SelfScore.objects.filter(enrollment=enrollment).count()
    if done >= total and enrollment.status == State.RETURNED:
        return []  # nothing unscored: the returned items (their own entry) are the work
    detail = _("%(done)d of %(total)d items scored") % {"done": done, "total": total}
    lines: tuple[Line, ...] = ()
    if (
        enrollment.status == State.SELF_ASSESSING
        and why_not(user, enrollment, State.SUBMITTED) is None
    ):
        # The step is taken on the self-assessment page itself (its "Submit to the town").
        lines = (Line(_("Ready: submit it to the town"), url=_self_url(campaign, enrollment)),)
    return [
        Todo(
            key="self_assessment",
            title=_("Self-assessment of %s") % enrollment.community.name,
            count=total - done,
            url=_self_url(campaign, enrollment),
            detail=detail,
            lines=lines,
        )
    ]


def _returned(campaign: Campaign, enrollment: Enrollment) -> list[Todo]:
    if enrollment.status != State.RETURNED:
        return []
    transition, notes = latest_return(enrollment)
    items = {i.pk: i for i in campaign.standard.items.filter(pk__in=notes)}
    url = _self_url(campaign, enrollment)
    by = transition.actor if transition is not None and transition.actor else None
    return [
        Todo(
            key="returned",
            title=(
                _("Returned with comments by %s") % by
                if by is not None
                else _("Returned with comments")
            ),
            count=len(notes) or 1,
            url=url,
            detail=transition.comment if transition is not None else "",
            lines=tuple(
                Line(f"{items[pk].code} {items[pk].title}", url=url, note=text)
                for pk, text in sorted(notes.items(), key=lambda n: items[n[0]].order)
                if pk in items
            ),
            late=True,
        )
    ]


def _rectifications_due(campaign: Campaign, enrollment: Enrollment, today: date) -> list[Todo]:
    open_ = list(
        Rectification.objects.filter(enrollment=enrollment, status=RectificationStatus.OPEN)
        .select_related("item", "veto")
        .order_by("due_on", "pk")
    )
    if not open_:
        return []
    late = [r for r in open_ if r.is_overdue(today)]
    url = reverse("rectifications", args=[campaign.slug])
    return [
        Todo(
            key="rectifications",
            title=_("Rectifications due"),
            count=len(open_),
            url=url,
            detail=_("%d overdue") % len(late) if late else "",
            lines=tuple(
                Line(
                    f"{r.item.code} {r.item.title}"
                    if r.item
                    else _("One-vote veto")
                    if r.veto
                    else _("Re-check of the title"),
                    url=url,
                    note=r.due_on.isoformat() if r.due_on else "",
                    late=r in late,
                )
                for r in open_[:LINES]
            ),
            late=bool(late),
        )
    ]


def _self_url(campaign: Campaign, enrollment: Enrollment) -> str:
    return (
        reverse("self_assessment", args=[campaign.slug]) + f"?community={enrollment.community.code}"
    )


# -- steps that wait for the person: review, pre-accept, report ----------------------------------

WAITING = (
    # (the state the community waits in, the step the person takes, key, title)
    (State.SUBMITTED, State.TOWN_REVIEWED, "to_review", gettext_lazy("Submissions to review")),
    (
        State.TOWN_REVIEWED,
        State.COUNTY_PRE_ACCEPTED,
        "to_pre_accept",
        gettext_lazy("Communities to pre-accept"),
    ),
    (
        State.COUNTY_PRE_ACCEPTED,
        State.REPORTED,
        "to_report",
        gettext_lazy("Communities to report to the city"),
    ),
)


def _steps(user: Any, campaign: Campaign) -> list[Todo]:
    """Communities waiting for a step the person's role takes (one query for all three)."""
    waiting = list(
        campaign.enrollments.select_related("community")
        .filter(
            authz.within_scope(user, "community__path"),
            status__in=[source for source, *_rest in WAITING],
        )
        .order_by("community__path")
    )
    unreviewed = _without_town_reviewer(user, [e for e in waiting if e.status == State.SUBMITTED])
    found = []
    for source, target, key, title in WAITING:
        mine = [
            e
            for e in waiting
            if e.status == source and (may_take(user, e, target) or e.pk in unreviewed)
        ]
        if not mine:
            continue
        url = reverse("communities", args=[campaign.slug]) + f"?state={source}"
        if target == State.REPORTED:
            # Reported with the county's statement, on the page of reports (ADR 25).
            url = reverse("upward_reports", args=[campaign.slug])
        found.append(
            Todo(
                key=key,
                title=str(title),
                count=len(mine),
                url=url,
                lines=tuple(
                    Line(e.community.name, url=_self_url(campaign, e)) for e in mine[:LINES]
                ),
            )
        )
    return found


def _without_town_reviewer(user: Any, submitted: list[Enrollment]) -> set[int]:
    """The submitted communities this person may review (he may return them) although their
    town's review is not his step, whose town has no officer who may review them: nobody else
    would see them waiting, so they wait for him (the county above the vacant town)."""
    from civicmark.accounts.models import RoleAssignment

    mine = [
        e
        for e in submitted
        if not may_take(user, e, State.TOWN_REVIEWED) and may_take(user, e, State.RETURNED)
    ]
    if not mine:
        return set()
    officers = list(
        RoleAssignment.objects.filter(role=Role.TOWN_OFFICER, user__is_active=True)
        .filter(division_id__in={e.community.parent_id for e in mine})
        .select_related("user")
    )
    staffed: set[int] = set()
    for e in mine:
        for grant in officers:
            if grant.division_id == e.community.parent_id and may_take(
                grant.user, e, State.TOWN_REVIEWED
            ):
                staffed.add(e.pk)
                break
    return {e.pk for e in mine if e.pk not in staffed}


# -- county and city: rounds to lead, disagreements, overdue rectifications --------------------


def _rounds_to_lead(user: Any, campaign: Campaign, today: date) -> list[Todo]:
    lines, disagreements = [], []
    for round_ in campaign.rounds.select_related("campaign__division").order_by("number"):
        county = None if authz.can_lead_round(user, round_) else parts.led_county(user, round_)
        if county is None and not authz.can_lead_round(user, round_):
            continue
        if round_.finalised_at is not None or (
            county is not None and parts.part_sealed(round_, county.path)
        ):
            continue
        url = reverse("round_detail", args=[campaign.slug, round_.number])
        lines.append(
            Line(
                round_.name,
                url=url,
                note=f"{round_.opens_on:%Y-%m-%d} – {round_.closes_on:%Y-%m-%d}",
                late=round_.closes_on < today,
            )
        )
        if round_.opens_on <= today:
            found = open_disagreements(round_)
            if county is not None:
                found = [d for d in found if d.enrollment.community.path.startswith(county.path)]
            if found:
                disagreements.append((round_, len(found)))
    todos = []
    if lines:
        todos.append(
            Todo(
                key="rounds_to_lead",
                title=_("Rounds to lead"),
                count=len(lines),
                url=lines[0].url,
                lines=tuple(lines),
                late=any(line.late for line in lines),
            )
        )
    for round_, n in disagreements:
        todos.append(
            Todo(
                key="disagreements",
                title=_("Disagreements to settle in %s") % round_.name,
                count=n,
                url=reverse("round_disagreements", args=[campaign.slug, round_.number]),
            )
        )
    return todos


def _overdue_rectifications(user: Any, campaign: Campaign, today: date) -> list[Todo]:
    rows = list(
        Rectification.objects.filter(
            authz.within_scope(user, "enrollment__community__path"),
            overdue_rectifications_q(today),
            round__campaign=campaign,
        )
        .order_by()
        .values(
            "enrollment__community__name",
            "enrollment__community__path",
            "enrollment__community__parent__code",
        )
        .annotate(n=Count("id"))
        .order_by("-n", "enrollment__community__path")
    )
    if not rows:
        return []
    url = reverse("rectifications", args=[campaign.slug])
    return [
        Todo(
            key="overdue_rectifications",
            title=_("Overdue rectifications"),
            count=sum(r["n"] for r in rows),
            url=url,
            detail=_("in %d communities") % len(rows),
            lines=tuple(
                Line(
                    r["enrollment__community__name"],
                    url=f"{url}?town={r['enrollment__community__parent__code']}",
                    note=str(r["n"]),
                    late=True,
                )
                for r in rows[:LINES]
            ),
            late=True,
        )
    ]


# -- assessors -----------------------------------------------------------------------------------


def _to_score(user: Any, campaign: Campaign, today: date) -> list[Todo]:
    """Per open round whose panel he sits on: the communities with items of his still unscored,
    and how many items that is (per round: a few queries, whatever the number of communities)."""
    mine = items_of(user, campaign)
    if not mine:
        return []
    found = []
    rounds = campaign.rounds.select_related("campaign__division", "campaign__standard").filter(
        finalised_at__isnull=True, opens_on__lte=today
    )
    for round_ in rounds.order_by("number"):
        left = left_to_score(user, round_, mine)
        if not left:
            continue
        found.append(
            Todo(
                key="to_score",
                title=_("To score in %s") % round_.name,
                count=len(left),
                url=reverse("score_home", args=[campaign.slug, round_.number]),
                detail=_("%(communities)d communities, %(items)d items left")
                % {"communities": len(left), "items": sum(left.values())},
                late=round_.closes_on < today,
            )
        )
    return found


def items_of(user: Any, campaign: Campaign) -> set[int]:
    """The ids of the campaign's items the person's departments score."""
    departments = authz.assessor_departments(user)
    if not departments:
        return set()
    return set(
        campaign.standard.items.filter(
            Q(department_id__in=departments) | Q(other_departments__in=departments)
        ).values_list("pk", flat=True)
    )


def left_to_score(user: Any, round_: AcceptanceRound, mine: set[int]) -> dict[int, int]:
    """enrollment id -> how many of his items (`mine`) he has still to score there, for a round
    whose panel he sits on (empty when he is not on it): the to-do's count and the "scores
    needed" notification's (assessments.reminders) are this one answer."""
    if not mine or not panels.on_panel(user, round_):
        return {}
    covered = panels.covered(round_).filter(authz.within_scope(user, "community__path"))
    ties = authz.ties_q(user, "community__path")
    if ties is not None:
        covered = covered.exclude(ties)
    ids = list(covered.values_list("pk", flat=True))
    done = dict(
        Score.objects.filter(round=round_, assessor_id=user.pk, enrollment_id__in=ids)
        .order_by()
        .values_list("enrollment_id")
        .annotate(n=Count("id"))
    )
    rescored = panels.rescore_map(round_)
    left = {}
    for pk in ids:
        wanted = mine
        if rescored is not None and not rescored.everything(pk):
            wanted = mine & set(rescored.get(pk, set()))
        if n := max(0, len(wanted) - done.get(pk, 0)):
            left[pk] = n
    return left


# -- the campaign at a glance (those who read and do not act) ----------------------------------


def figures_for(*, user: Any, campaign: Campaign, today: date) -> list[Figure]:
    """Key figures of the campaign in the person's scope (two grouped queries)."""
    counts = dict(
        campaign.enrollments.filter(authz.within_scope(user, "community__path"))
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    overdue = Rectification.objects.filter(
        authz.within_scope(user, "enrollment__community__path"),
        overdue_rectifications_q(today),
        round__campaign=campaign,
    ).count()
    dashboard = reverse("dashboard", args=[campaign.slug])
    acceptance = reverse("communities", args=[campaign.slug])
    return [
        Figure(_("Communities enrolled"), sum(counts.values()), acceptance),
        Figure(
            _("Pre-accepted by the county"), sum(counts.get(s, 0) for s in PRE_ACCEPTED), dashboard
        ),
        Figure(_("Standard units"), sum(counts.get(s, 0) for s in STANDARD_UNITS), dashboard),
        Figure(_("Vetoed"), counts.get(State.VETOED, 0), dashboard),
        Figure(
            _("Overdue rectifications"),
            overdue,
            reverse("rectifications", args=[campaign.slug]),
            late=bool(overdue),
        ),
    ]


def open_rounds(campaign: Campaign, today: date) -> list[AcceptanceRound]:
    """The campaign's rounds open today and not finalised (the menu's way to scoring)."""
    return list(
        campaign.rounds.filter(finalised_at__isnull=True, opens_on__lte=today).order_by("number")
    )
