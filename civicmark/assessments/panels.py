"""Who sits on a round's panel, which communities it covers, and which items it re-scores.

A round's lead may list the panel and the communities explicitly; until then the defaults hold:

- panel: for the county pre-acceptance, the assessors appointed at county level within the
  campaign's scope; for a municipal round, the assessors appointed at the city above it;
- coverage: a round that does not carry scores over covers every community that has reached
  it in the workflow (the town has reviewed it for the county round; the county has reported it
  for a municipal round); a round that carries over (the November round) covers those that did
  not reach the standard or are rectifying. A community already scored in a round stays covered,
  whatever the workflow did with it since;
- items: a carrying round re-scores, by default, only the items that lost points in the round it
  carries from (they became the community's rectifications) and, where a veto was found, the
  items of the veto's department; every other item carries over. It opens for scoring only once
  the round it carries from is finalised.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from civicmark.accounts.models import RoleAssignment, User
from civicmark.accounts.roles import Role
from civicmark.campaigns.models import AcceptanceRound, Enrollment, Rescore
from civicmark.divisions.models import Level

# The workflow states from which a community is in the running for each kind of round.
AFTER_TOWN_REVIEW = (
    "town_reviewed",
    "county_pre_accepted",
    "reported",
    "standard_unit",
    "not_reached",
    "vetoed",
    "rectifying",
    "proposed",
    "commended",
)
AFTER_REPORT = AFTER_TOWN_REVIEW[2:]
TO_ACCEPT_AGAIN = ("not_reached", "vetoed", "rectifying")


def default_panel_grants(round_: AcceptanceRound) -> QuerySet[RoleAssignment]:
    path = round_.campaign.division.path
    grants = RoleAssignment.objects.filter(role=Role.ASSESSOR, user__is_active=True)
    if round_.level == Level.COUNTY:
        # The county's own assessors: appointed at a county inside the campaign's scope (or the
        # county that runs the campaign).
        return grants.filter(division__level=Level.COUNTY).filter(
            Q(division__path__startswith=path) | Q(division__path=path)
        )
    # A municipal round: the assessors appointed at a city whose scope holds the campaign.
    cities = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    return grants.filter(division__level=Level.CITY, division__path__in=cities)


def candidates(round_: AcceptanceRound) -> QuerySet[User]:
    """Everyone the lead could put on the panel: assessors appointed within or above the scope."""
    path = round_.campaign.division.path
    ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    return (
        User.objects.filter(
            Q(roles__division__path__startswith=path) | Q(roles__division__path__in=ancestors),
            roles__role=Role.ASSESSOR,
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def lead_candidates(round_: AcceptanceRound) -> QuerySet[User]:
    """The officers who may lead a round: county or city officers of the campaign's scope."""
    path = round_.campaign.division.path
    ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    return (
        User.objects.filter(
            Q(roles__division__path__in=ancestors) | Q(roles__division__path__startswith=path),
            roles__role__in=(Role.COUNTY_OFFICER, Role.CITY_ADMIN),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def panel(round_: AcceptanceRound) -> QuerySet[User]:
    if listed(round_, "panel"):
        return round_.panel.all()
    return User.objects.filter(pk__in=default_panel_grants(round_).values("user")).order_by(
        "username"
    )


def _memo(round_: AcceptanceRound, key: Any, compute: Any) -> Any:
    """Keep an answer on the round object for the rest of the request or import: checking every
    row of a score sheet must not ask the database the same question each time."""
    memo = round_.__dict__.setdefault("_panels_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def with_choices(rounds: QuerySet[AcceptanceRound]) -> QuerySet[AcceptanceRound]:
    """Rounds that know, from the query that found them, whether the lead listed a panel and the
    communities: saving a score then asks the database nothing more about either in the usual
    case (the default panel and coverage)."""
    panel_rows = AcceptanceRound.panel.through.objects.filter(acceptanceround_id=OuterRef("pk"))
    cover_rows = AcceptanceRound.covers.through.objects.filter(acceptanceround_id=OuterRef("pk"))
    return rounds.annotate(listed_panel=Exists(panel_rows), listed_covers=Exists(cover_rows))


def listed(round_: AcceptanceRound, what: str) -> bool:
    known = round_.__dict__.get(f"listed_{what}")
    if known is None:
        known = _memo(round_, f"listed_{what}", getattr(round_, what).exists)
    return bool(known)


def in_default_panel(user: Any, round_: AcceptanceRound) -> bool:
    """`default_panel_grants` answered from the person's grants, which the request has already
    read (tests hold the two equal)."""
    from civicmark.accounts import authz

    if not getattr(user, "is_active", False):
        return False
    path = round_.campaign.division.path
    for g in authz.grants(user):
        if g.role != Role.ASSESSOR:
            continue
        if round_.level == Level.COUNTY:
            if g.level == Level.COUNTY and g.path.startswith(path):
                return True
        elif g.level == Level.CITY and path.startswith(g.path):
            return True
    return False


def on_panel(user: Any, round_: AcceptanceRound) -> bool:
    if not getattr(user, "pk", None):
        return False

    def ask() -> bool:
        if listed(round_, "panel"):
            return round_.panel.filter(pk=user.pk).exists()
        return in_default_panel(user, round_)

    return bool(_memo(round_, ("panel", user.pk), ask))


def is_covered(round_: AcceptanceRound, enrollment_id: int, status: str | None = None) -> bool:
    """One community: a set lookup when the whole round's coverage is already known (a sheet
    import primes it); else, by the default rule, no query when the community's workflow state
    (`status`, as the caller read it) brings it in, one indexed query otherwise."""
    memo = round_.__dict__.get("_panels_memo", {})
    if "covered" in memo:
        return enrollment_id in memo["covered"]

    def ask() -> bool:
        if listed(round_, "covers"):
            return round_.covers.filter(pk=enrollment_id).exists()
        if status is not None and status in default_states(round_):
            return True
        return round_.campaign.enrollments.filter(
            Q(pk=enrollment_id) & _default_coverage_q(round_)
        ).exists()

    return bool(_memo(round_, ("covers", enrollment_id), ask))


def covered_ids(round_: AcceptanceRound) -> set[int]:
    return set(_memo(round_, "covered", lambda: set(covered(round_).values_list("pk", flat=True))))


def covered(round_: AcceptanceRound) -> QuerySet[Enrollment]:
    """The enrollments this round assesses."""
    enrollments = round_.campaign.enrollments.all()
    if listed(round_, "covers"):
        return enrollments.filter(pk__in=round_.covers.values("pk"))
    return enrollments.filter(_default_coverage_q(round_))


def _default_coverage_q(round_: AcceptanceRound) -> Q:
    """The enrollments a round covers when the lead lists none: those in its workflow states and
    those already scored or vetoed in it."""
    from civicmark.assessments.models import Score, VetoFinding

    # EXISTS on the (round, enrollment, ...) index, not IN over every score of the round: the
    # planner then checks one community at a time in an index instead of hashing the round.
    return (
        Q(status__in=default_states(round_))
        | Exists(Score.objects.filter(round=round_, enrollment=OuterRef("pk")))
        | Exists(VetoFinding.objects.filter(round=round_, enrollment=OuterRef("pk")))
    )


def default_states(round_: AcceptanceRound) -> tuple[str, ...]:
    """The workflow states that bring a community into the round when the lead lists none."""
    if round_.carries_from:
        return TO_ACCEPT_AGAIN
    if round_.level == Level.COUNTY:
        return AFTER_TOWN_REVIEW
    return AFTER_REPORT


def covered_results_q(round_: AcceptanceRound) -> Q:
    """The coverage rule as a filter on the round's stored results (`CommunityResult`): the
    lead's list, or the workflow states plus the communities already assessed in the round."""
    if round_.covers.exists():
        return Q(enrollment__rounds_covering=round_)
    return Q(enrollment__status__in=default_states(round_)) | Q(assessed=True)


def earlier_round(round_: AcceptanceRound) -> AcceptanceRound | None:
    if not round_.carries_from:
        return None
    return round_.campaign.rounds.filter(number=round_.carries_from).first()


def items_to_score(round_: AcceptanceRound, enrollment: Enrollment) -> set[int] | None:
    """The item ids this round re-scores for the community, or None for every item."""
    found = rescore_map(round_)
    return None if found is None else set(found.get(enrollment.pk, set()))


def rescore_map(round_: AcceptanceRound) -> dict[int, set[int]] | None:
    """For a round that re-scores only what was found wanting: enrollment -> item ids (one
    query for the whole round); None when the round scores every item."""
    from civicmark.assessments.models import Rectification

    earlier = earlier_round(round_)
    if earlier is None or round_.rescore == Rescore.ALL:
        return None

    def lost() -> dict[int, set[int]]:
        found: dict[int, set[int]] = {}
        items_of: dict[int, set[int]] = {}
        for pk, department in round_.campaign.standard.items.values_list("pk", "department"):
            items_of.setdefault(department, set()).add(pk)
        for e, item, veto_department in Rectification.objects.filter(round=earlier).values_list(
            "enrollment", "item", "veto__department"
        ):
            if item is not None:
                found.setdefault(e, set()).add(item)
            else:
                # A veto is re-assessed by its department looking at its items again.
                found.setdefault(e, set()).update(items_of.get(veto_department, set()))
        return found

    return dict(_memo(round_, "rescored", lost))


def departments(round_: AcceptanceRound) -> list[Any]:
    """The departments represented on the panel."""
    from civicmark.divisions.models import Department

    return list(
        Department.objects.filter(assessors__role=Role.ASSESSOR, assessors__user__in=panel(round_))
        .distinct()
        .order_by("code")
    )


def round_sealed_for(round_: AcceptanceRound, community: Any) -> bool:
    """Whether what `round_` judged of `community` (a community Division) is sealed: its scores,
    veto findings, the evidence of its items, signed figures and coverage change no more until
    the round's lead reopens it with a reason.

    Every seal check goes through this one predicate. For now a round is sealed as a whole once
    it is finalised; a round split into per-county parts will answer per community here.
    """
    return round_.finalised_at is not None
