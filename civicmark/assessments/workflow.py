"""The enrollment's workflow: one table of transitions, each allowed to certain roles, with guards.

enrolled -> self_assessing -> submitted -> town_reviewed -> county_pre_accepted -> reported
               ^                 ^  (returned with comments, by the town or the county)   |
               +-- returned -----+--------------------------------------------------------+
(a returned self-assessment is changed and submitted again in one step, by the community; it
may also go back to self_assessing, as before)
reported -> standard_unit | not_reached | vetoed        (by the municipal round's result)
not_reached / vetoed -> rectifying -> standard_unit | not_reached | vetoed   (next round)
standard_unit -> proposed -> commended (or back to standard_unit if the city declines); commended
only once the public notice has closed with every objection decided; an objection upheld on it
sends a standard unit (or a proposed one) back to rectifying (ADR 22)
standard_unit | proposed | commended -> title_withdrawn   (only by the withdrawal of a title that
failed its re-check, `results.titles.title_withdraw`; ADR 20)
county_pre_accepted -> reported   (only by the county's report to the city,
`results.upward.report_upward`, which keeps what was reported and its documents; ADR 25)

Every transition is applied by `transition_apply`, to one community or many at once; a batch
is all or nothing, and every refusal says which community and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import TextChoices
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment
from civicmark.accounts.roles import Role
from civicmark.assessments import followers, notice
from civicmark.assessments.models import SelfScore, Transition
from civicmark.campaigns import parts
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError
from civicmark.divisions.models import Level
from civicmark.notifications.models import Event
from civicmark.notifications.services import notify
from civicmark.scoring.models import Score, VetoFinding
from civicmark.scoring.rules import Outcome


class State(TextChoices):
    ENROLLED = "enrolled", gettext_lazy("Enrolled")
    SELF_ASSESSING = "self_assessing", gettext_lazy("Self-assessing")
    SUBMITTED = "submitted", gettext_lazy("Submitted to the town")
    RETURNED = "returned", gettext_lazy("Returned for changes")
    TOWN_REVIEWED = "town_reviewed", gettext_lazy("Reviewed by the town")
    COUNTY_PRE_ACCEPTED = "county_pre_accepted", gettext_lazy("Pre-accepted by the county")
    REPORTED = "reported", gettext_lazy("Reported to the city")
    STANDARD_UNIT = "standard_unit", gettext_lazy("Standard unit")
    NOT_REACHED = "not_reached", gettext_lazy("Standard not reached")
    VETOED = "vetoed", gettext_lazy("Vetoed")
    RECTIFYING = "rectifying", gettext_lazy("Rectifying")
    PROPOSED = "proposed", gettext_lazy("Proposed for commendation")
    COMMENDED = "commended", gettext_lazy("Commended")
    TITLE_WITHDRAWN = "title_withdrawn", gettext_lazy("Title withdrawn")


@dataclass
class Context:
    """What guards need, computed once per batch (round results above all)."""

    campaign: Campaign
    comment: str = ""
    # The service that takes the step, for the steps only one service takes
    # (`TITLE_WITHDRAWAL`).
    service: str = ""
    _results: dict[int, dict[int, Any]] = field(default_factory=dict)
    _rounds: list[AcceptanceRound] | None = None

    def rounds(self, level: str) -> list[AcceptanceRound]:
        """The campaign's rounds of one kind ("county" or "city"), latest first: which rounds
        are the county's or the city's is data on the round, never its number (ADR 17)."""
        if self._rounds is None:
            self._rounds = list(self.campaign.rounds.order_by("-number"))
        return [r for r in self._rounds if r.level == level]

    def result(self, enrollment: Enrollment, round_: AcceptanceRound) -> Any:
        from civicmark.scoring.rounds import round_results

        if round_.pk not in self._results:
            self._results[round_.pk] = round_results(round_)
        return self._results[round_.pk].get(enrollment.pk)

    def latest_complete(
        self, enrollment: Enrollment, level: str
    ) -> tuple[AcceptanceRound, Any] | None:
        """The latest round of this kind with a complete result for the community."""
        for round_ in self.rounds(level):
            result = self.result(enrollment, round_)
            if result is not None and result.outcome != Outcome.INCOMPLETE:
                return round_, result
        return None


Guard = Callable[[Enrollment, Context], str | None]  # returns the reason for refusing, or None


def _self_assessment_complete(enrollment: Enrollment, ctx: Context) -> str | None:
    total = ctx.campaign.standard.items.count()
    done = SelfScore.objects.filter(enrollment=enrollment).count()
    if done < total:
        return _("the self-assessment has %(missing)d of %(total)d items still to score") % {
            "missing": total - done,
            "total": total,
        }
    return None


def missing_evidence(enrollment: Enrollment) -> list[str]:
    """The codes of the items that ask for evidence and have none yet from this community."""
    from civicmark.assessments.models import Evidence

    proven = set(Evidence.objects.filter(enrollment=enrollment).values_list("items", flat=True))
    return [
        code
        for pk, code in enrollment.campaign.standard.items.exclude(evidence="")
        .order_by("order")
        .values_list("pk", "code")
        if pk not in proven
    ]


def _evidence_present(enrollment: Enrollment, ctx: Context) -> str | None:
    """A campaign that blocks on missing evidence (`Campaign.missing_evidence`) refuses the
    submission, naming the items; one that only warns lets it through (the page warns)."""
    if ctx.campaign.missing_evidence != "block":
        return None
    missing = missing_evidence(enrollment)
    if not missing:
        return None
    return _(
        "%(n)d items have no evidence yet, and this campaign accepts no submission without it: "
        "%(items)s"
    ) % {"n": len(missing), "items": ", ".join(missing)}


def _needs_comment(enrollment: Enrollment, ctx: Context) -> str | None:
    return None if ctx.comment.strip() else _("say what must change (a comment is required)")


def _pre_acceptance_passed(enrollment: Enrollment, ctx: Context) -> str | None:
    """The county's own round found it a standard unit, and that round (or the county's part
    of it) is finalised: a result still open to change does not send a community upward."""
    found = ctx.latest_complete(enrollment, Level.COUNTY)
    if found is None:
        return _("no county round has a complete result for it yet")
    round_, result = found
    if not parts.part_sealed(round_, enrollment.community.path):
        return _("the county round “%s” is not finalised yet") % round_.name
    if result.outcome != Outcome.STANDARD:
        return _("the county round “%s” has not found it a standard unit") % round_.name
    return None


def _municipal_outcome(outcome: Outcome) -> Guard:
    def guard(enrollment: Enrollment, ctx: Context) -> str | None:
        found = ctx.latest_complete(enrollment, Level.CITY)
        if found is None:
            return _("no municipal round has a complete result for it yet")
        round_, latest = found
        if latest.outcome != outcome:
            return _("its latest municipal result is “%s”") % State(latest.outcome).label
        taken_off = notice.withdrawn_from(enrollment) if outcome == Outcome.STANDARD else None
        if taken_off and (round_.finalised_at is None or round_.number <= taken_off.number):
            return _(
                "an objection upheld on the public notice of “%s” took it off the list: a "
                "later municipal round, finalised, must find it a standard unit"
            ) % (taken_off.name)
        if taken_off and not round_.scores.filter(enrollment=enrollment).exists():
            # Re-scoring only lost items, a later round that covers it carries the overturned
            # finding whole: "to be assessed again" means that round scored it itself.
            return _(
                "an objection upheld on the public notice of “%(then)s” took it off the list: "
                "“%(now)s” must assess it again, not only carry the scores the objection "
                "overturned"
            ) % {"then": taken_off.name, "now": round_.name}
        return None

    return guard


def _commendation_final(enrollment: Enrollment, ctx: Context) -> str | None:
    """Commended only once the public notice that proposed it has closed and every objection
    to it is decided (ADR 22): the one predicate the certificates ask too."""
    return notice.naming_refusal(enrollment, commendation=True)


def _objection_upheld(enrollment: Enrollment, ctx: Context) -> str | None:
    """A named community goes back to rectification only when an objection to its naming was
    upheld on its latest public notice (ADR 22)."""
    if notice.withdrawn_from(enrollment) is None:
        return _("only an objection upheld on the public notice takes a naming back")
    return None


# The service that alone withdraws a title (dynamic management, ADR 20): it names itself when it
# calls `transition_apply`; the workflow pages never do, so their menu's step is refused.
TITLE_WITHDRAWAL = "results.titles.title_withdraw"


def _by_title_withdrawal(enrollment: Enrollment, ctx: Context) -> str | None:
    """A title is withdrawn only by the withdrawal of a title that failed its re-check and its
    follow-up (`results.titles.title_withdraw`), which revokes the certificate in the same
    transaction: as an upheld objection alone takes a naming back (ADR 22)."""
    if ctx.service != TITLE_WITHDRAWAL:
        return _(
            "a title is withdrawn only on the titles page, after a failed re-check and its "
            "failed follow-up"
        )
    return None


# The service that alone reports communities to the city (ADR 25): the county's report, which
# records what it reported (each community's pre-acceptance result, the county's statement) and
# makes its PDF and list from that record in the same transaction. The workflow pages never name
# it, so no community is reported without a report that says so.
REPORT_UPWARD = "results.upward.report_upward"


def _by_report_upward(enrollment: Enrollment, ctx: Context) -> str | None:
    if ctx.service != REPORT_UPWARD:
        return _(
            "communities are reported to the city on the page “Reports to the city”, with the "
            "county's statement"
        )
    return None


def pre_acceptance(
    campaign: Campaign, enrollments: Iterable[Enrollment]
) -> dict[int, tuple[AcceptanceRound, Any] | None]:
    """Each community's county round and its result there, as the pre-acceptance guard reads
    them (the latest county round with a complete result): what a report upward records."""
    ctx = Context(campaign=campaign)
    return {e.pk: ctx.latest_complete(e, Level.COUNTY) for e in enrollments}


def _advanced(enrollment: Enrollment, ctx: Context) -> str | None:
    """Commendable in the latest municipal round with a complete result and, when the standard
    has passing levels, at the highest of them; a standard with no passing level commends
    among its standard units (ADR 17)."""
    found = ctx.latest_complete(enrollment, Level.CITY)
    if found is None or found[1].outcome != Outcome.STANDARD:
        return _("no municipal round found it a standard unit")
    result = found[1]
    if not result.commendable:
        return _("a gate bars it from commendation")
    highest = (
        ctx.campaign.standard.levels.filter(passing=True)
        .order_by("-min_score")
        .values_list("name", flat=True)
        .first()
    )
    if highest is not None and result.level != highest:
        return _("it did not reach the highest level")
    return None


@dataclass(frozen=True)
class Step:
    source: tuple[str, ...]
    target: str
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    # A step that judges the community (reviews, accepts, reports, decides, commends) is never
    # taken by someone with a conflict of interest over it (authz.conflicted_over); the
    # community's own steps and the start of rectification judge nothing.
    judges: bool = True
    # The roles of the level above that take the step on the office's behalf when no active
    # person holds one of `roles` over the community (a town without an officer): the county
    # reviews the submission rather than leave it waiting for no one.
    stands_in: frozenset[str] = frozenset()


COMMUNITY, TOWN, COUNTY, CITY = (
    Role.COMMUNITY_STAFF,
    Role.TOWN_OFFICER,
    Role.COUNTY_OFFICER,
    Role.CITY_ADMIN,
)
S = State
STEPS: tuple[Step, ...] = (
    Step((S.ENROLLED, S.RETURNED), S.SELF_ASSESSING, frozenset({COMMUNITY, TOWN}), judges=False),
    # A returned self-assessment is submitted again in one step, by the same rule as the first
    # submission (ADR 21): the community changes what was asked while it stands returned.
    Step(
        (S.SELF_ASSESSING, S.RETURNED),
        S.SUBMITTED,
        frozenset({COMMUNITY}),
        (_self_assessment_complete, _evidence_present),
        judges=False,
    ),
    Step((S.SUBMITTED,), S.TOWN_REVIEWED, frozenset({TOWN}), stands_in=frozenset({COUNTY})),
    Step((S.SUBMITTED, S.TOWN_REVIEWED), S.RETURNED, frozenset({TOWN, COUNTY}), (_needs_comment,)),
    Step((S.TOWN_REVIEWED,), S.COUNTY_PRE_ACCEPTED, frozenset({COUNTY}), (_pre_acceptance_passed,)),
    # Reported only by the county's report (ADR 25), and only while the finalised county round
    # still finds it a standard unit: the report prints that result.
    Step(
        (S.COUNTY_PRE_ACCEPTED,),
        S.REPORTED,
        frozenset({COUNTY}),
        (_by_report_upward, _pre_acceptance_passed),
    ),
    Step(
        (S.REPORTED, S.RECTIFYING),
        S.STANDARD_UNIT,
        frozenset({CITY}),
        (_municipal_outcome(Outcome.STANDARD),),
    ),
    Step(
        (S.REPORTED, S.RECTIFYING),
        S.NOT_REACHED,
        frozenset({CITY}),
        (_municipal_outcome(Outcome.NOT_REACHED),),
    ),
    Step(
        (S.REPORTED, S.RECTIFYING),
        S.VETOED,
        frozenset({CITY}),
        (_municipal_outcome(Outcome.VETOED),),
    ),
    Step((S.NOT_REACHED, S.VETOED), S.RECTIFYING, frozenset({TOWN, COUNTY, CITY}), judges=False),
    Step((S.STANDARD_UNIT,), S.PROPOSED, frozenset({CITY}), (_advanced,)),
    Step((S.PROPOSED,), S.COMMENDED, frozenset({CITY}), (_commendation_final,)),
    # An objection upheld on the public notice undoes a naming (ADR 22): the community
    # rectifies and a later municipal round assesses it again.
    Step(
        (S.STANDARD_UNIT, S.PROPOSED),
        S.RECTIFYING,
        frozenset({CITY}),
        (_needs_comment, _objection_upheld),
    ),
    Step((S.PROPOSED,), S.STANDARD_UNIT, frozenset({CITY}), (_needs_comment,)),
    # A title that failed its re-check and its follow-up is withdrawn (dynamic management, ADR
    # 20): the community is no longer a standard unit, proposed or commended anywhere, and no
    # step leads on from here (it is accepted again in a later campaign).
    Step(
        (S.STANDARD_UNIT, S.PROPOSED, S.COMMENDED),
        S.TITLE_WITHDRAWN,
        frozenset({CITY}),
        (_needs_comment, _by_title_withdrawal),
    ),
)


def step_for(source: str, target: str) -> Step | None:
    return next((s for s in STEPS if source in s.source and s.target == target), None)


# The steps a service takes and no page offers: the communities page's menu leaves them out.
NOT_OFFERED = frozenset({State.TITLE_WITHDRAWN, State.REPORTED})


def targets_from(source: str) -> list[str]:
    """The steps a page may offer from `source`."""
    return [s.target for s in STEPS if source in s.source and s.target not in NOT_OFFERED]


def _seats(actor: Any, roles: Iterable[str], path: str) -> list[str]:
    """The offices from which the actor may take a step allowed to `roles` over the community
    at `path` ("" for the superuser, who acts from nowhere in particular)."""
    if authz.is_super(actor):
        return [""]
    return [g.path for g in authz.grants(actor) if g.role in roles and path.startswith(g.path)]


def _held_under(actor: Any, roles: frozenset[str], seats: list[str]) -> frozenset[str]:
    """The paths of the divisions under the actor's `seats` where an active person holds one of
    `roles`: read once per request and kept on the actor, as his grants are (a page asks for
    every community of a list)."""
    from django.db.models import Q

    kept = actor.__dict__.setdefault("_civicmark_held", {})
    key = (roles, tuple(sorted(seats)))
    if key not in kept:
        under = Q(pk__in=[])
        for seat in seats:
            under |= Q(division__path__startswith=seat)
        kept[key] = frozenset(
            RoleAssignment.objects.filter(under, role__in=roles, user__is_active=True)
            .values_list("division__path", flat=True)
            .distinct()
        )
    return kept[key]


def _stand_in_seats(actor: Any, step: Step, path: str) -> list[str]:
    """The seats from which the actor takes the step on behalf of an office nobody holds over
    the community at `path` (the one place that rule is written): a county officer reviews a
    submission of a town that has no officer, within his county."""
    if not step.stands_in or authz.is_super(actor) or _seats(actor, step.roles, path):
        return []
    seats = _seats(actor, step.stands_in, path)
    if not seats:
        return []
    held = _held_under(actor, step.roles, seats)
    above = [path[: i + 1] for i, c in enumerate(path) if c == "/"]
    return [] if any(p in held for p in above) else seats


def _refusal(actor: Any, step: Step, enrollment: Enrollment) -> str | None:
    """Why the actor may not take this step for this community, or None (guards aside)."""
    community = enrollment.community
    seats = _seats(actor, step.roles, community.path) or _stand_in_seats(
        actor, step, community.path
    )
    if not seats:
        return _("your role may not make this step here")
    # He judges from one of his seats: a tie to the community at that very office is the job
    # (a town officer reviews his own town), a tie below it a conflict.
    if step.judges and all(
        authz.conflicted_over(actor, community, acting_at=seat) for seat in seats
    ):
        return _(
            "you hold a role in this community or its town, or live or work there: "
            "someone else decides"
        )
    return None


def _may(actor: Any, step: Step, enrollment: Enrollment) -> bool:
    return _refusal(actor, step, enrollment) is None


@dataclass
class Refusal:
    community: str
    reason: str

    def __str__(self) -> str:
        return f"{self.community}: {self.reason}"


class TransitionRefused(ApplicationError):
    code = "transition_refused"

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        super().__init__("; ".join(str(r) for r in refusals))


def transition_apply(
    *,
    actor: Any,
    campaign: Campaign,
    enrollments: Iterable[Enrollment],
    to: str,
    comment: str = "",
    via: str = "web",
    service: str = "",
) -> int:
    """Move every given enrollment to `to`, or none of them; return how many moved. `service`
    is named by the one service that takes a step no page offers (`TITLE_WITHDRAWAL`,
    `REPORT_UPWARD`)."""
    if to not in State.values:
        raise ApplicationError(_("Unknown state %s.") % to)
    ctx = Context(campaign=campaign, comment=comment, service=service)
    with transaction.atomic():
        locked = list(
            Enrollment.objects.select_for_update()
            .filter(campaign=campaign, pk__in=[e.pk for e in enrollments])
            .select_related("community")
        )
        refusals = []
        for enrollment in locked:
            name = enrollment.community.name
            step = step_for(enrollment.status, to)
            if step is None:
                refusals.append(
                    Refusal(
                        name,
                        _("cannot go from “%(source)s” to “%(target)s”")
                        % {"source": State(enrollment.status).label, "target": State(to).label},
                    )
                )
            elif reason := _refusal(actor, step, enrollment):
                refusals.append(Refusal(name, reason))
            else:
                refusals += [
                    Refusal(name, reason)
                    for guard in step.guards
                    if (reason := guard(enrollment, ctx))
                ]
        if refusals:
            raise TransitionRefused(refusals)
        # A step taken standing in for an office nobody holds says whose it was.
        on_behalf = {
            e.pk: {"on_behalf_of": getattr(e.community.parent, "name", "")}
            for e in locked
            if (step := step_for(e.status, to)) and _stand_in_seats(actor, step, e.community.path)
        }
        # One insert for the steps and one for their audit events, however many move (a county
        # reports hundreds at once; a province's "every one the filter finds" thousands).
        steps = Transition.objects.bulk_create(
            [
                Transition(
                    enrollment=enrollment,
                    from_status=enrollment.status,
                    to_status=to,
                    actor=actor if getattr(actor, "pk", None) else None,
                    comment=comment,
                )
                for enrollment in locked
            ],
            batch_size=1000,
        )
        audit.record_many(
            [
                audit.Event(
                    actor=actor,
                    via=via,
                    action="workflow.transition",
                    object_type="enrollment",
                    object_ref=f"{campaign.slug}/{enrollment.community.code}",
                    scope_path=enrollment.community.path,
                    # No summary of codes: the log names the states from before and after.
                    before={"status": enrollment.status},
                    after={"status": to, "comment": comment, **on_behalf.get(enrollment.pk, {})},
                )
                for enrollment in locked
            ]
        )
        Enrollment.objects.filter(pk__in=[e.pk for e in locked]).update(status=to)
        # The tasks that stand for this work are done (or to do again) with it.
        followers.follow_submissions(
            actor=actor, campaign=campaign, enrollments=locked, status=to, via=via
        )
        if to == State.RETURNED:
            _tell_returned(actor=actor, campaign=campaign, steps=steps, comment=comment)
    return len(locked)


def _tell_returned(
    *, actor: Any, campaign: Campaign, steps: list[Transition], comment: str
) -> None:
    """The community's staff are told their self-assessment came back, in the step's own
    transaction (ADR 28): one notification per return (keyed by the step), with the reviewer's
    comment and a link to the self-assessment page."""
    communities = {step.enrollment.community_id: step.enrollment.community for step in steps}
    staff: dict[int, list[Any]] = {}
    for grant in RoleAssignment.objects.filter(
        role=Role.COMMUNITY_STAFF, division_id__in=list(communities), user__is_active=True
    ).select_related("user"):
        staff.setdefault(grant.division_id, []).append(grant.user)
    who = str(actor) if getattr(actor, "pk", None) else ""
    for step in steps:
        community = step.enrollment.community
        if not staff.get(community.pk):
            continue
        link = reverse("self_assessment", args=[campaign.slug]) + f"?community={community.code}"
        notify(
            staff[community.pk],
            event=Event.RETURNED,
            key=f"returned:{step.pk}",
            title=partial(_returned_title, community.name),
            body=partial(_returned_body, who, comment),
            link=link,
            scope_path=community.path,
        )


def _returned_title(community: str) -> str:
    return _("%(community)s: %(state)s") % {"community": community, "state": State.RETURNED.label}


def _returned_body(who: str, comment: str) -> str:
    lines = [_("Returned by %(person)s.") % {"person": who}] if who else []
    if comment:
        lines.append(_("Comment: %(comment)s") % {"comment": comment})
    lines.append(_("Change what was asked and submit it again."))
    return "\n".join(lines)


def may_take(actor: Any, enrollment: Enrollment, to: str) -> bool:
    """Whether the step exists from where the enrollment stands and the actor's role may take it
    (the guards still apply when it is taken)."""
    step = step_for(enrollment.status, to)
    return step is not None and _may(actor, step, enrollment)


def why_not(actor: Any, enrollment: Enrollment, to: str) -> str | None:
    """Why the actor may not move this community to `to` now, or None if he may: the very
    checks `transition_apply` makes (step, role, conflict of interest, guards), so that a page
    shows a step as possible exactly when the service would take it. A guard that needs a
    comment is not held against a step not yet asked for."""
    step = step_for(enrollment.status, to)
    if step is None:
        return _("cannot go from “%(source)s” to “%(target)s”") % {
            "source": State(enrollment.status).label,
            "target": State(to).label,
        }
    if reason := _refusal(actor, step, enrollment):
        return reason
    ctx = Context(campaign=enrollment.campaign, comment="-")
    return next((r for guard in step.guards if (r := guard(enrollment, ctx))), None)


def role_refusal(actor: Any, to: str, paths: Iterable[str]) -> str | None:
    """Why no seat of the actor takes a step to `to` for any community under `paths` (the
    communities a menu offers), or None when one may: the role half of `_refusal`, asked once
    for a whole list so that a menu offers only steps the person's role can take."""
    steps = [step for step in STEPS if step.target == to]
    roles = {s for step in steps for s in step.roles}
    paths = list(paths)
    if any(_seats(actor, roles, path) for path in paths):
        return None
    if any(_stand_in_seats(actor, step, path) for step in steps for path in paths):
        return None
    names = ", ".join(sorted(str(Role(r).label) for r in roles))
    return _("this step is taken by: %(roles)s") % {"roles": names}


def return_with_comments(
    *,
    actor: Any,
    enrollment: Enrollment,
    comment: str,
    item_comments: dict[Any, str],
    via: str = "web",
) -> Transition:
    """Return a self-assessment to the community, saying what must change on each item; the
    step and its comments are written together or not at all."""
    from civicmark.assessments.models import ReturnComment

    notes = {item: text.strip() for item, text in item_comments.items() if text.strip()}
    if any(item.standard_id != enrollment.campaign.standard_id for item in notes):
        raise ApplicationError(_("Those items are not in this campaign's standard."))
    summary = comment.strip() or (
        _("See the comments on items %s.") % ", ".join(i.code for i in notes) if notes else ""
    )
    with transaction.atomic():
        transition_apply(
            actor=actor,
            campaign=enrollment.campaign,
            enrollments=[enrollment],
            to=State.RETURNED,
            comment=summary,
            via=via,
        )
        transition = Transition.objects.filter(enrollment=enrollment).latest("at", "id")
        ReturnComment.objects.bulk_create(
            ReturnComment(transition=transition, item=item, comment=text)
            for item, text in notes.items()
        )
        if notes:
            audit.record(
                actor=actor,
                via=via,
                action="workflow.item_comments",
                object_type="enrollment",
                object_ref=f"{enrollment.campaign.slug}/{enrollment.community.code}",
                scope_path=enrollment.community.path,
                summary=summary[:255],
                after={item.code: text for item, text in notes.items()},
            )
    return transition


def latest_return(enrollment: Enrollment) -> tuple[Transition | None, dict[int, str]]:
    """The last time the self-assessment was returned, and its comments by item id."""
    transition = (
        Transition.objects.filter(enrollment=enrollment, to_status=State.RETURNED)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if transition is None:
        return None, {}
    return transition, dict(transition.comments.values_list("item", "comment"))


def returned_by(transition: Transition, community: Any) -> str:
    """Who returned the self-assessment, with the office he returned it from ("王五 (County
    officer)"): the town or the county, whichever of the step's roles he holds over it."""
    actor = transition.actor
    if actor is None:
        return _("the reviewer")
    step = step_for(transition.from_status, State.RETURNED)
    roles = step.roles if step is not None else frozenset({TOWN, COUNTY})
    seats = sorted(
        (g for g in authz.grants(actor) if g.role in roles and community.path.startswith(g.path)),
        key=lambda g: -len(g.path),
    )
    if not seats:
        return str(actor)
    return f"{actor} ({Role(seats[0].role).label})"


# --- a result changed on appeal (issue 17 item 3, ADR 20) ---------------------------------------

# The states a municipal result put the community in, by the outcome that puts it there.
JUDGED = {
    Outcome.STANDARD: State.STANDARD_UNIT,
    Outcome.NOT_REACHED: State.NOT_REACHED,
    Outcome.VETOED: State.VETOED,
}
# From where a changed result moves the community: the judged states, and rectifying when the
# corrected result makes it a standard unit (there is nothing left to rectify). A community
# proposed or commended keeps its state: the city decides on it (`STEPS`).
FOLLOWS_APPEAL = (State.STANDARD_UNIT, State.NOT_REACHED, State.VETOED, State.RECTIFYING)


def appeal_target(enrollment: Enrollment, round_: AcceptanceRound) -> str | None:
    """The state the community's municipal result in `round_` now puts it in, when that differs
    from where it stands and the result should move it: no later municipal round has judged it
    afresh (scored it or recorded a veto: its state follows that round then; a later round that
    only carries `round_`'s values follows with it), and it stands in a judged state (or
    rectifying, and the result is now a standard unit). None: it stays."""
    if round_.level != Level.CITY or enrollment.status not in FOLLOWS_APPEAL:
        return None
    later = enrollment.campaign.rounds.filter(level=Level.CITY, number__gt=round_.number)
    if (
        Score.objects.filter(round__in=later, enrollment=enrollment).exists()
        or VetoFinding.objects.filter(round__in=later, enrollment=enrollment).exists()
    ):
        return None
    result = Context(campaign=enrollment.campaign).result(enrollment, round_)
    target = JUDGED.get(result.outcome) if result is not None else None
    if target is None or target == enrollment.status:
        return None
    if enrollment.status == State.RECTIFYING and target != State.STANDARD_UNIT:
        return None
    return target


def appeal_follow(
    *,
    actor: Any,
    enrollment: Enrollment,
    round_: AcceptanceRound,
    reason: str,
    appeal_ref: str,
    via: str = "web",
) -> str | None:
    """After an appeal's decision changed the community's result in `round_`: move it to the
    state the corrected result gives (`appeal_target`), recorded as a transition with the
    decision's reason and audited. Not a step of `STEPS`: no role takes it by hand; the appeal
    service (`quality.appeals`), which checked its reviewer, calls it in its own transaction.
    Returns the new state, or None when it stays."""
    with transaction.atomic():
        locked = (
            Enrollment.objects.select_for_update()
            .select_related("community", "campaign")
            .get(pk=enrollment.pk)
        )
        target = appeal_target(locked, round_)
        if target is None:
            return None
        Transition.objects.create(
            enrollment=locked,
            from_status=locked.status,
            to_status=target,
            actor=actor if getattr(actor, "pk", None) else None,
            comment=reason,
        )
        audit.record(
            actor=actor,
            via=via,
            action="workflow.appeal_followed",
            object_type="enrollment",
            object_ref=f"{locked.campaign.slug}/{locked.community.code}",
            scope_path=locked.community.path,
            before={"status": locked.status},
            after={"status": target, "comment": reason, "appeal": appeal_ref},
        )
        Enrollment.objects.filter(pk=locked.pk).update(status=target)
        followers.follow_submissions(
            actor=actor, campaign=locked.campaign, enrollments=[locked], status=target, via=via
        )
    enrollment.status = target
    return target
