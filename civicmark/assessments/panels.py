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

from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IsNull

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment, User
from civicmark.accounts.roles import Role
from civicmark.campaigns import parts
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
    "title_withdrawn",
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


def candidates(round_: AcceptanceRound, county: Any = None) -> QuerySet[User]:
    """Everyone the lead could put on the panel: assessors appointed within or above the scope;
    for one county's part of a split round, the assessors appointed in that county."""
    if county is not None:
        return (
            User.objects.filter(
                roles__division__path__startswith=county.path,
                roles__role=Role.ASSESSOR,
                is_active=True,
            )
            .distinct()
            .order_by("username")
        )
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
    """The officers who may be named lead of a round (`authz.lead_role_fits`): of the
    campaign's area, and for a municipal round of the municipal office."""
    path = round_.campaign.division.path
    ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    held = RoleAssignment.objects.filter(
        Q(division__path__in=ancestors) | Q(division__path__startswith=path),
        role__in=(Role.COUNTY_OFFICER, Role.CITY_ADMIN),
        user__is_active=True,
    ).values_list("user_id", "role", "division__path")
    fits = {user for user, role, at in held if authz.lead_role_fits(role, at, round_)}
    return User.objects.filter(pk__in=fits).order_by("username")


def panel(round_: AcceptanceRound, county: Any = None) -> QuerySet[User]:
    """Who sits on the round's panel (on one county's part, given the county)."""
    if not parts.is_split(round_):
        if listed(round_, "panel"):
            return round_.panel.all()
        return User.objects.filter(pk__in=default_panel_grants(round_).values("user")).order_by(
            "username"
        )
    # A split round: the people listed, and the default panel of every part that lists no one.
    listed_in = listed_counties(round_, "panel")
    entries = round_.panel.all()
    defaults = default_panel_grants(round_).exclude(parts.under("division__path", listed_in))
    if county is not None:
        entries = entries.filter(
            Q(roles__role=Role.ASSESSOR, roles__division__path__startswith=county.path)
            | ~Q(pk__in=_appointed_in_a_county(round_))
        )
        defaults = defaults.filter(division__path__startswith=county.path)
    return (
        User.objects.filter(Q(pk__in=entries.values("pk")) | Q(pk__in=defaults.values("user")))
        .distinct()
        .order_by("username")
    )


def _appointed_in_a_county(round_: AcceptanceRound) -> QuerySet[RoleAssignment, Any]:
    """The listed panel members appointed in some county (the others were listed by the city
    from above the counties and sit on every part)."""
    return RoleAssignment.objects.filter(
        user__in=round_.panel.all(), role=Role.ASSESSOR, division__level__in=_BELOW_CITY
    ).values("user")


_BELOW_CITY = (Level.COUNTY, Level.TOWN, Level.COMMUNITY)


def listed_counties(round_: AcceptanceRound, what: str) -> set[str]:
    """In a split round, the paths of the counties whose part lists its own communities
    ("covers") or panel members ("panel"): the other parts keep the defaults."""
    if not listed(round_, what):
        return set()

    def ask() -> set[str]:
        paths: Any
        if what == "covers":
            paths = round_.covers.values_list("community__path", flat=True)
        else:
            paths = RoleAssignment.objects.filter(
                user__in=round_.panel.all(), role=Role.ASSESSOR
            ).values_list("division__path", flat=True)
        return {c for p in paths if (c := parts.county_path(p)) is not None}

    return set(_memo(round_, ("counties", what), ask))


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
    case (the default panel and coverage).

    The three answers are fixed SQL (`_CHOICES_SQL`), not `Exists(...)` expressions: building
    and compiling those cost a score save more than any of its statements (issue 19: the
    save's profile). Portable SQL (EXISTS in the select list, SQLite and PostgreSQL alike);
    identifiers come from the models, quoted by the connection; nothing is bound.
    `tests/test_panels.py` holds them equal to `listed` and `_later_started`'s queries."""
    return rounds.annotate(
        **{
            name: RawSQL(sql, (), output_field=BooleanField())  # noqa: S611  (fixed SQL)
            for name, sql in _choices_sql().items()
        }
    )


def _choices_sql() -> dict[str, str]:
    from civicmark.scoring.models import Score, VetoFinding

    if not _CHOICES_SQL:
        qn = connection.ops.quote_name
        rounds = qn(AcceptanceRound._meta.db_table)
        panel = qn(AcceptanceRound.panel.through._meta.db_table)
        covers = qn(AcceptanceRound.covers.through._meta.db_table)
        scores, findings = qn(Score._meta.db_table), qn(VetoFinding._meta.db_table)
        _CHOICES_SQL.update(
            {
                "listed_panel": f"EXISTS (SELECT 1 FROM {panel} p "  # noqa: S608
                f"WHERE p.acceptanceround_id = {rounds}.id)",
                "listed_covers": f"EXISTS (SELECT 1 FROM {covers} c "  # noqa: S608
                f"WHERE c.acceptanceround_id = {rounds}.id)",
                # `_later_started`, answered by the same query (a save asks no more of it).
                "later_rounds_started": f"EXISTS (SELECT 1 FROM {rounds} later "  # noqa: S608
                f"WHERE later.campaign_id = {rounds}.campaign_id "
                f"AND later.number > {rounds}.number "
                # The later round's first score in its index's order, not EXISTS: PostgreSQL
                # plans an EXISTS over a round's scores as a scan of every round's scores
                # (ADR 31, `_started_q`); ordered by the index it is one descent.
                f"AND ((SELECT s.id FROM {scores} s WHERE s.round_id = later.id "
                f"ORDER BY s.round_id, s.enrollment_id, s.item_id LIMIT 1) IS NOT NULL "
                f"OR EXISTS (SELECT 1 FROM {findings} f WHERE f.round_id = later.id)))",
            }
        )
    return _CHOICES_SQL


_CHOICES_SQL: dict[str, str] = {}  # filled on first use, when the connection can quote


def listed(round_: AcceptanceRound, what: str) -> bool:
    known = round_.__dict__.get(f"listed_{what}")
    if known is None:
        known = _memo(round_, f"listed_{what}", getattr(round_, what).exists)
    return bool(known)


def in_default_panel(
    user: Any, round_: AcceptanceRound, skip: set[str] | None = None, within: str | None = None
) -> bool:
    """`default_panel_grants` answered from the person's grants, which the request has already
    read (tests hold the two equal); `skip`: county paths whose part lists its own panel;
    `within`: only the default panel of that county's part."""

    if not getattr(user, "is_active", False):
        return False
    path = round_.campaign.division.path
    for g in authz.grants(user):
        if g.role != Role.ASSESSOR:
            continue
        if round_.level == Level.COUNTY:
            if (
                g.level == Level.COUNTY
                and g.path.startswith(path)
                and g.path not in (skip or ())
                and (within is None or g.path == within)
            ):
                return True
        elif g.level == Level.CITY and path.startswith(g.path):
            return True
    return False


def on_panel(user: Any, round_: AcceptanceRound, community: Any = None) -> bool:
    """Whether the person sits on the round's panel: for a split round, on the part of the
    given community (or, without one, on any part)."""
    if not getattr(user, "pk", None):
        return False
    split = parts.is_split(round_)
    within = parts.county_path(community.path) if split and community is not None else None

    def ask() -> bool:
        if not listed(round_, "panel"):
            return in_default_panel(user, round_, within=within)
        if round_.panel.filter(pk=user.pk).exists():
            # Listed: his appointment says where he scores (`authz.can_score`).
            return True
        if not split:
            return False
        return in_default_panel(user, round_, skip=listed_counties(round_, "panel"), within=within)

    return bool(_memo(round_, ("panel", user.pk, within), ask))


def is_covered(round_: AcceptanceRound, enrollment_id: int, status: str | None = None) -> bool:
    """One community: a set lookup when the whole round's coverage is already known (a sheet
    import primes it); else, by the default rule, no query when the community's workflow state
    (`status`, as the caller read it) brings it in, one indexed query otherwise."""
    memo = round_.__dict__.get("_panels_memo", {})
    if "covered" in memo:
        return enrollment_id in memo["covered"]

    if parts.is_split(round_) and listed(round_, "covers"):
        return enrollment_id in covered_ids(round_)

    def ask() -> bool:
        if listed(round_, "covers"):
            return round_.covers.filter(pk=enrollment_id).exists()
        if (
            status is not None
            and status in default_states(round_)
            and not parts.is_split(round_)
            and not _later_started(round_)
        ):
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
        listing = Q(pk__in=round_.covers.values("pk"))
        if parts.is_split(round_):
            # Each county's part: its own list, or the default when it lists none.
            own = parts.under("community__path", listed_counties(round_, "covers"))
            return enrollments.filter(listing | (_default_coverage_q(round_) & ~own))
        return enrollments.filter(listing)
    return enrollments.filter(_default_coverage_q(round_))


def default_covered(round_: AcceptanceRound) -> QuerySet[Enrollment]:
    """The enrollments the round would cover by the default rule, whatever the lead listed."""
    return round_.campaign.enrollments.filter(_default_coverage_q(round_))


def brought_by_workflow(round_: AcceptanceRound) -> QuerySet[Enrollment]:
    """The enrollments the round's workflow states bring in (not those it covers because they
    were scored in it: one the lead added by hand and scored since is still his addition)."""
    return round_.campaign.enrollments.filter(_brought_by_state(round_))


def _default_coverage_q(round_: AcceptanceRound) -> Q:
    """The enrollments a round covers when the lead lists none: those in its workflow states and
    those already scored or vetoed in it."""
    from civicmark.scoring.models import Score, VetoFinding

    # EXISTS on the (round, enrollment, ...) index, not IN over every score of the round: the
    # planner then checks one community at a time in an index instead of hashing the round.
    return (
        _brought_by_state(round_)
        | Exists(Score.objects.filter(round=round_, enrollment=OuterRef("pk")))
        | Exists(VetoFinding.objects.filter(round=round_, enrollment=OuterRef("pk")))
    )


def _brought_by_state(round_: AcceptanceRound, prefix: str = "") -> Q:
    """The communities the workflow brings into the round: in its states, and not in a county
    part already signed off, which covers only what it judged until its lead reopens it (a
    community the town passed on after the part's sign-off waits for the next round)."""
    found = Q(**{f"{prefix}status__in": default_states(round_)})
    if parts.is_split(round_):
        sealed = [path for path, part in parts.part_map(round_).items() if part.finalised_at]
        if sealed:
            found &= ~parts.under(f"{prefix}community__path", sealed)
    if found.children and default_states(round_) and _later_started(round_):
        found &= ~_taken_up_later(
            round_, OuterRef(f"{prefix}pk" if not prefix else "enrollment_id")
        )
    return found


def _later_rows(round_: AcceptanceRound) -> tuple[Any, Any]:
    """Scores and veto findings of the campaign's rounds after this one."""
    from civicmark.scoring.models import Score, VetoFinding

    later = {"round__campaign_id": round_.campaign_id, "round__number__gt": round_.number}
    return Score.objects.filter(**later), VetoFinding.objects.filter(**later)


def _started_q() -> Q:
    """Rounds that have scored or vetoed any community."""
    from civicmark.scoring.models import Score, VetoFinding

    here = OuterRef("pk")
    # The round's first score in its index's order rather than EXISTS: PostgreSQL plans an EXISTS
    # over a round's scores as a scan of every score of every round (it expects half the table
    # to match and the first hit to come at once), which reads millions of rows when the round
    # has none (52 ms at 10,000 communities, on every round page). Ordered by the index
    # (round, enrollment, item), the first row is one index descent (ADR 31).
    first = (
        Score.objects.filter(round_id=here)
        .order_by("round_id", "enrollment_id", "item_id")
        .values("pk")[:1]
    )
    return Q(IsNull(Subquery(first), False)) | Q(Exists(VetoFinding.objects.filter(round_id=here)))


def _later_started(round_: AcceptanceRound) -> bool:
    """Whether a later round has scored or vetoed any community (one query, kept for the
    request, or none for a round found by `with_choices`): only then can a community's workflow
    state have moved past this round."""
    known = round_.__dict__.get("later_rounds_started")
    if known is not None:
        return bool(known)

    def ask() -> bool:
        return (
            AcceptanceRound.objects.filter(campaign_id=round_.campaign_id, number__gt=round_.number)
            .filter(_started_q())
            .exists()
        )

    return bool(_memo(round_, "later_started", ask))


def _taken_up_later(round_: AcceptanceRound, enrollment: Any) -> Q:
    """A community a later round has taken up (scored or vetoed it): its workflow state
    then speaks of that round, and it joins this one no more by state (ADR 17: nothing done in
    a later round changes an earlier one; a reopened July does not gain November's late
    community)."""
    scores, findings = _later_rows(round_)
    return Q(
        Exists(scores.filter(enrollment_id=enrollment))
        | Exists(findings.filter(enrollment_id=enrollment))
    )


def default_states(round_: AcceptanceRound) -> tuple[str, ...]:
    """The workflow states that bring a community into the round when the lead lists none.

    None once the round is signed off as a whole: it covers then the communities it judged
    (scored or vetoed in it), whatever the workflow does with the others since, until its lead
    reopens it. (Asked of the campaign's own division: sealed for it means sealed throughout.)"""
    if round_sealed_for(round_, round_.campaign.division):
        return ()
    if round_.carries_from:
        return TO_ACCEPT_AGAIN
    if round_.level == Level.COUNTY:
        return AFTER_TOWN_REVIEW
    return AFTER_REPORT


def covered_results_q(round_: AcceptanceRound) -> Q:
    """The coverage rule as a filter on the round's stored results (`CommunityResult`): the
    lead's list, or the workflow states plus the communities already assessed in the round."""
    default = _brought_by_state(round_, "enrollment__") | Q(assessed=True)
    if round_.covers.exists():
        if parts.is_split(round_):
            own = parts.under("enrollment__community__path", listed_counties(round_, "covers"))
            return Q(enrollment__in=round_.covers.values("pk")) | (default & ~own)
        return Q(enrollment__rounds_covering=round_)
    return default


def earlier_round(round_: AcceptanceRound) -> AcceptanceRound | None:
    """The round this one carries from: `scoring.rounds.earlier` is the one answer (ADR 17)."""
    from civicmark.scoring.rounds import earlier

    return earlier(round_)


class Rescored(dict[int, set[int]]):
    """enrollment id -> the item ids a carrying round re-scores for it. A community not scored
    in the round carried from (first covered late, or returning) is scored in full: `get` gives
    it every item of the standard, and `everything(pk)` says so."""

    def __init__(self, lost: dict[int, set[int]], scored_before: set[int], items: set[int]):
        super().__init__(lost)
        self.scored_before = scored_before
        self.all_items = frozenset(items)

    def everything(self, enrollment_id: int) -> bool:
        return enrollment_id not in self.scored_before

    def get(self, key: int, default: Any = None) -> Any:  # type: ignore[override]
        if self.everything(key):
            return set(self.all_items)
        return super().get(key, default)


def items_to_score(round_: AcceptanceRound, enrollment: Enrollment) -> set[int] | None:
    """The item ids this round re-scores for the community, or None for every item: a carrying
    round re-scores only what lost points for a community scored in the round it carries from;
    a community first covered here gets every item."""
    found = rescore_map(round_)
    if found is None or found.everything(enrollment.pk):
        return None
    return set(found.get(enrollment.pk, set()))


def rescore_map(round_: AcceptanceRound) -> Rescored | None:
    """For a round that re-scores only what was found wanting: enrollment -> item ids (two
    queries for the whole round); None when the round scores every item. Communities that were
    not scored in the earlier round get every item (`Rescored.get`, `Rescored.everything`)."""
    from civicmark.assessments.models import Rectification
    from civicmark.scoring.models import Score

    earlier = earlier_round(round_)
    if earlier is None or round_.rescore == Rescore.ALL:
        return None

    def lost() -> Rescored:
        found: dict[int, set[int]] = {}
        items_of: dict[int, set[int]] = {}
        every: set[int] = set()
        for pk, department in round_.campaign.standard.items.values_list("pk", "department"):
            items_of.setdefault(department, set()).add(pk)
            every.add(pk)
        for e, item, veto_department in Rectification.objects.filter(round=earlier).values_list(
            "enrollment", "item", "veto__department"
        ):
            if item is not None:
                found.setdefault(e, set()).add(item)
            else:
                # A veto is re-assessed by its department looking at its items again.
                found.setdefault(e, set()).update(items_of.get(veto_department, set()))
        scored = set(
            Score.objects.filter(round=earlier)
            .order_by()
            .values_list("enrollment", flat=True)
            .distinct()
        )
        return Rescored(found, scored, every)

    found = _memo(round_, "rescored", lost)
    return found  # type: ignore[no-any-return]


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

    Every seal check goes through this one predicate. A round is sealed as a whole once it is
    finalised; the county round of a city's campaign is also sealed, community by community,
    where the part of the community's county is finalised (ADR 12).
    """
    if round_.finalised_at is not None:
        return True
    return parts.is_split(round_) and parts.part_sealed(round_, community.path)


def lead_refusal(user: Any, round_: AcceptanceRound, county: Any = None) -> str | None:
    """Why the person may not lead this round (or this county's part of it) though his office
    could: he is tied to a community it covers (`authz.conflicted_over`: its staff, the officer
    of its town, or living or working there), and nobody leads over his own community. The
    covered communities are asked once, filtered to his few ties."""
    from django.utils.translation import gettext as _

    ties = authz.ties_q(user, "community__path")
    if ties is None:
        return None
    found = covered(round_).filter(ties)
    if county is not None:
        found = found.filter(community__path__startswith=county.path)
    names = list(found.order_by("community__path").values_list("community__name", flat=True)[:3])
    if not names:
        return None
    return _(
        "%(who)s holds a role in, or lives or works in, %(communities)s, which this round covers: "
        "someone without that tie leads it."
    ) % {"who": str(user), "communities": "、".join(names)}


class CoverageListing(NamedTuple):
    """What the round page shows of the coverage (ADR 11): the communities in the viewer's scope,
    each flagged (`on`: covered; `by_default`: brought in by the default rule rather than by the
    lead's hand) while they are at most `limit`, else none (`large`); the round's covered count;
    the covered ones in scope per workflow state; the codes the lead listed, in scope."""

    rows: list[Enrollment]
    large: bool
    covered: int
    by_state: list[tuple[str, int]]
    listed_codes: list[str]


def coverage_listing(round_: AcceptanceRound, *, scope: Q, limit: int) -> CoverageListing:
    """The same statements whatever the round's size (ADR 31): one read of at most `limit` + 1
    communities with their flags computed in it, one count, one count per state, and the listed
    codes when the lead listed any. Whether the page lists or counts follows from what was read,
    not from a count of its own."""
    here = OuterRef("pk")
    by_default: Any = Exists(default_covered(round_).filter(pk=here))
    if listed(round_, "covers"):
        # A community the lead listed by hand is his addition, even once scored in the round
        # (which alone would bring it in by default): only the workflow's own are "by default".
        by_default = ExpressionWrapper(
            Q(by_default)
            & (
                ~Q(Exists(round_.covers.filter(pk=here)))
                | Q(Exists(brought_by_workflow(round_).filter(pk=here)))
            ),
            output_field=BooleanField(),
        )
    # At most `limit` + 1 of the scope's communities, any of them (no sort of a province by
    # path), then those few in order with their flags: one statement, bounded whatever N is.
    some = round_.campaign.enrollments.filter(scope).order_by().values("pk")[: limit + 1]
    first: list[Enrollment] = list(
        round_.campaign.enrollments.filter(pk__in=some)
        .select_related("community")
        .annotate(on=Exists(covered(round_).filter(pk=here)), by_default=by_default)
    )
    large = len(first) > limit
    by_state = list(
        covered(round_)
        .filter(scope)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by("status")
    )
    codes: list[str] = []
    if listed(round_, "covers"):
        codes = list(
            round_.covers.filter(scope)
            .order_by("community__code")
            .values_list("community__code", flat=True)
        )
    return CoverageListing(
        rows=[] if large else first,
        large=large,
        covered=covered(round_).count(),
        by_state=by_state,
        listed_codes=codes,
    )
