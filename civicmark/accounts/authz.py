"""The authorization layer: every view and command asks here what a person may see and do.

Two kinds of answers:
- scoped querysets, `<entity>_for_user(user)`: what the person may *see*. A view fetches every
  object through one of them, so an object outside the scope is simply not found (404), which
  also tells an outsider nothing about whether it exists;
- predicates, `can_<verb>_<entity>(user, obj)`: whether the person may *change* it.

Scope is a division subtree. Each division stores its path ("/city/county/town/"), so "under X"
is a prefix match on an indexed column, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from civicmark.accounts.models import RoleAssignment, User
from civicmark.accounts.roles import GRANTABLE, LOCAL_ROLES, MANAGER_ROLES, ROLE_LEVEL, Role
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Department, Division, Level, WorkingGroup

log = logging.getLogger("civicmark.security")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Grant:
    role: str
    path: str
    division_id: int
    department_id: int | None
    level: str = ""


def grants(user: Any) -> list[Grant]:
    """The person's role assignments, read once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_civicmark_grants", None)
    if cached is None:
        cached = [
            Grant(*row)
            for row in RoleAssignment.objects.filter(user=user).values_list(
                "role", "division__path", "division_id", "department_id", "division__level"
            )
        ]
        user._civicmark_grants = cached
    return cached


def forget_grants(user: Any) -> None:
    if hasattr(user, "_civicmark_grants"):
        del user._civicmark_grants
    # The offices held below him, kept by the workflow's stand-in rule, go with his grants.
    user.__dict__.pop("_civicmark_held", None)


def is_super(user: Any) -> bool:
    """Superusers, and `None`: the server operator running a command without --user."""
    if user is None:
        return True
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def is_community_staff(user: Any, community: Division) -> bool:
    """The community's own neighbourhood committee staff (no one above counts as such)."""
    return any(g.role == Role.COMMUNITY_STAFF and g.path == community.path for g in grants(user))


def assessor_departments(user: Any) -> set[int]:
    """The departments a person assesses for."""
    return {g.department_id for g in grants(user) if g.role == Role.ASSESSOR and g.department_id}


def roles_of(user: Any) -> set[str]:
    return {g.role for g in grants(user)}


def is_read_only(user: Any) -> bool:
    """A leading-group member and nothing else: he watches, so his pages offer no action (no
    form that writes, an export as a plain link)."""
    roles = roles_of(user)
    return bool(roles) and roles <= {Role.VIEWER} and not is_super(user)


def read_paths(user: Any) -> list[str]:
    return sorted({g.path for g in grants(user)})


def manage_paths(user: Any) -> list[str]:
    return sorted({g.path for g in grants(user) if g.role in MANAGER_ROLES})


def _under(field: str, paths: Iterable[str]) -> Q:
    found = [Q(**{f"{field}__startswith": path}) for path in paths]
    if not found:
        return Q(pk__in=[])  # no scope: nothing
    query = found[0]
    for q in found[1:]:
        query |= q
    return query


def sees_all_under(user: Any, path: str) -> bool:
    """Whether the person may read everything under the division at `path` (his scope holds
    it whole): a page may then leave its scope filter out, or serve whole-scope figures."""
    return is_super(user) or any(path.startswith(p) for p in read_paths(user))


def within_scope(user: Any, path_field: str) -> Q:
    """A filter on a division path (e.g. "enrollment__community__path") to what the person may
    read: a prefix match in the join itself, which large queries plan far better than an IN
    over the divisions."""
    if is_super(user):
        return Q()
    return _under(path_field, read_paths(user))


def manage_scope(user: Any, path_field: str) -> Q:
    """A filter on a division path to what the person manages (his own division and below)."""
    if is_super(user):
        return Q()
    return _under(path_field, manage_paths(user))


def within_or_above(user: Any, path_field: str) -> Q:
    """A filter on a division path to what the person may read and the governments above it
    (their standards, campaigns and departments reach down to him)."""
    if is_super(user):
        return Q()
    paths = read_paths(user)
    return _under(path_field, paths) | Q(**{f"{path_field}__in": _ancestors(paths)})


def _ancestors(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            found.add("/" + "/".join(parts[:i]) + "/")
    return found


def _within(path: str, paths: Iterable[str], *, strictly: bool = False) -> bool:
    return any(path.startswith(p) and not (strictly and path == p) for p in paths)


# --- Scoped querysets ----------------------------------------------------------------------


def divisions_for_user(user: Any) -> QuerySet[Division]:
    qs = Division.objects.all()
    return qs if is_super(user) else qs.filter(_under("path", read_paths(user)))


def departments_for_user(user: Any) -> QuerySet[Department]:
    """Departments of one's own subtree and of the governments above it (who assess it)."""
    return Department.objects.select_related("division").filter(
        within_or_above(user, "division__path")
    )


def working_groups_for_user(user: Any) -> QuerySet[WorkingGroup]:
    qs = WorkingGroup.objects.select_related("division")
    return qs if is_super(user) else qs.filter(_under("division__path", read_paths(user)))


def role_assignments_for_user(user: Any) -> QuerySet[RoleAssignment]:
    qs = RoleAssignment.objects.select_related("user", "division", "department")
    return qs if is_super(user) else qs.filter(_under("division__path", manage_paths(user)))


def users_for_user(user: Any) -> QuerySet[User]:
    """People whom a manager administers: anyone holding a role inside his subtree."""
    qs = User.objects.all()
    if is_super(user):
        return qs
    paths = manage_paths(user)
    if not paths:
        return qs.filter(pk=user.pk) if user.is_authenticated else qs.none()
    holders = RoleAssignment.objects.filter(_under("division__path", paths)).values("user_id")
    return qs.filter(Q(pk__in=holders) | Q(pk=user.pk))


def audit_events_for_user(user: Any) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor")
    return qs if is_super(user) else qs.filter(_under("scope_path", manage_paths(user)))


def get_visible_or_404(queryset: QuerySet[M], user: Any, **lookup: Any) -> M:
    """Fetch one object from a scoped queryset; outside the scope it does not exist."""
    try:
        return queryset.get(**lookup)
    except ObjectDoesNotExist:
        log.warning(
            "not found or out of scope: user=%s model=%s lookup=%s",
            getattr(user, "pk", None),
            queryset.model.__name__,
            lookup,
        )
        raise Http404 from None


def get_seen_or_404(
    queryset: QuerySet[M],
    user: Any,
    path_of: Callable[[M], str],
    *,
    or_above: bool = False,
    **lookup: Any,
) -> M:
    """`get_visible_or_404` for a page that fetches one row by its key: the scope asked of the
    row found, in Python (`sees_path`), rather than compiled into the query as `within_scope`
    (or `within_or_above`): the same rule, without building its Q objects for each request
    (issue 19: the score save's profile). Outside the scope it does not exist, as there."""
    found = get_visible_or_404(queryset, user, **lookup)
    if not sees_path(user, path_of(found), or_above=or_above):
        log.warning(
            "not found or out of scope: user=%s model=%s lookup=%s",
            getattr(user, "pk", None),
            queryset.model.__name__,
            lookup,
        )
        raise Http404
    return found


# --- Predicates ----------------------------------------------------------------------------


def sees_path(user: Any, path: str, *, or_above: bool = False) -> bool:
    """Whether a division path passes `within_scope` (with `or_above`, `within_or_above`):
    the same prefixes, asked of one path. `tests/test_scope_in_python.py` holds the two equal
    for every persona and division."""
    if is_super(user):
        return True
    paths = read_paths(user)
    return _within(path, paths) or (or_above and path in _ancestors(paths))


def can_see_division(user: Any, division: Division) -> bool:
    """Whether the division lies within what the person may read. A refusal about anything
    outside it says no more than "unknown": not its name, not that it exists."""
    return is_super(user) or _within(division.path, read_paths(user))


def can_change_division(user: Any, division: Division) -> bool:
    """Rename, move or re-profile a division: managers, strictly below their own division."""
    return is_super(user) or _within(division.path, manage_paths(user), strictly=True)


def can_add_division(user: Any, parent: Division | None) -> bool:
    if parent is None:
        return is_super(user)
    return is_super(user) or _within(parent.path, manage_paths(user))


def can_edit_profile(user: Any, community: Division) -> bool:
    if community.level != Level.COMMUNITY:
        return False
    if can_change_division(user, community):
        return True
    return is_community_staff(user, community)


def can_manage_departments(user: Any, division: Division) -> bool:
    """Departments belong to the government of a city or a county (the leading groups' level)."""
    if division.level not in (Level.CITY, Level.COUNTY):
        return False
    if is_super(user):
        return True
    return any(
        g.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER) and division.path.startswith(g.path)
        for g in grants(user)
    )


def can_manage_groups(user: Any, division: Division) -> bool:
    if division.level not in (Level.CITY, Level.COUNTY, Level.TOWN):
        return False
    return is_super(user) or _within(division.path, manage_paths(user))


# --- Authority over authority -----------------------------------------------------------------
# One rule decides who may grant or revoke which role, for every channel (pages, import, command
# line; the admin writes no roles):
# - nobody grants or revokes a role on his own account, whatever the role;
# - a manager hands out only roles strictly below his own (roles.GRANTABLE), and only within his
#   own subtree; a city administrator is appointed by a superuser (or the server operator) alone;
# - a role fits its division: a city administrator at a city, a county officer at a county, a town
#   officer at a town, community staff at a community; an assessor at division D assesses for a
#   department of D or of a government above D on the same branch.
# Revoking needs the same authority as granting (a misfit grant made before this rule can still
# be taken back by whoever outranks it).


@dataclass(frozen=True)
class GrantRefusal:
    """Why a grant or revocation is refused, and which part of the request it is about."""

    field: str  # "user", "role" or "department"
    message: str
    forbidden: bool = True  # False: the grant is malformed rather than beyond the person

    def error(self) -> ApplicationError:
        return NotAllowed(self.message) if self.forbidden else ApplicationError(self.message)


def grantable_roles(user: Any) -> set[str]:
    """The roles a person may hand out somewhere in his subtree (what the role form offers)."""
    if is_super(user):
        return set(Role.values)
    return {role for g in grants(user) for role in GRANTABLE.get(g.role, ())}


def _authority_refusal(
    user: Any, *, role: str, division: Division, target: Any = None
) -> GrantRefusal | None:
    """Self, rank and subtree: whether the person may hand out, or take back, `role` there."""
    own_pk = getattr(user, "pk", None)
    if target is not None and own_pk is not None and getattr(target, "pk", None) == own_pk:
        return GrantRefusal(
            "user", _("Nobody grants or revokes his own roles: ask the office above you.")
        )
    if is_super(user) or any(
        role in GRANTABLE.get(g.role, ()) and division.path.startswith(g.path) for g in grants(user)
    ):
        return None
    label = Role(role).label if role in Role.values else role
    return GrantRefusal(
        "role",
        _("You may not grant or revoke the role “%(role)s” at %(division)s.")
        % {"role": label, "division": division.code},
    )


def _fit_refusal(role: str, division: Division, department: Any) -> GrantRefusal | None:
    """Whether the role fits the division (and an assessor's department fits both)."""
    wanted = ROLE_LEVEL[role]
    if wanted is not None and division.level != wanted:
        return GrantRefusal(
            "role",
            _("The role “%(role)s” is held at a %(level)s, not at %(division)s.")
            % {"role": Role(role).label, "level": Level(wanted).label, "division": division.code},
            forbidden=False,
        )
    if role == Role.ASSESSOR and department is None:
        return GrantRefusal("role", _("An assessor needs a department."), forbidden=False)
    if role != Role.ASSESSOR and department is not None:
        return GrantRefusal(
            "department", _("Only an assessor is bound to a department."), forbidden=False
        )
    if department is not None and not division.path.startswith(department.division.path):
        return GrantRefusal(
            "department",
            _(
                "An assessor at %(division)s assesses for a department of %(division)s or of a "
                "government above it; %(department)s is neither."
            )
            % {"division": division.code, "department": department.code},
            forbidden=False,
        )
    return None


def grant_refusal(
    user: Any, *, role: str, division: Division, department: Any = None, target: Any = None
) -> GrantRefusal | None:
    """Why `user` may not give `target` (None: someone other than himself) this role, or None.
    `user` None is the server operator."""
    if role not in Role.values:
        return GrantRefusal("role", _("Unknown role %s.") % role, forbidden=False)
    return _authority_refusal(user, role=role, division=division, target=target) or _fit_refusal(
        role, division, department
    )


def revoke_refusal(user: Any, assignment: RoleAssignment) -> GrantRefusal | None:
    return _authority_refusal(
        user, role=assignment.role, division=assignment.division, target=assignment.user
    )


def can_grant(
    user: Any, role: str, division: Division, *, department: Any = None, target: Any = None
) -> bool:
    refusal = grant_refusal(
        user, role=role, division=division, department=department, target=target
    )
    return refusal is None


def can_manage_user(user: Any, target: User) -> bool:
    """Change a person (roles, password link): every role he holds must be one we could grant."""
    if is_super(user):
        return True
    if target.is_superuser or target.pk == user.pk:
        return False
    held = list(target.roles.select_related("division"))
    return bool(held) and all(
        _authority_refusal(user, role=r.role, division=r.division) is None for r in held
    )


def can_manage_people(user: Any) -> bool:
    return is_super(user) or bool(manage_paths(user))


def can_view_audit(user: Any) -> bool:
    return can_manage_people(user)


def can_change_path(user: Any, path: str) -> bool:
    """Create or change the division that will stand at `path` (used by imports)."""
    return is_super(user) or _within(path, manage_paths(user), strictly=True)


# --- Standards -----------------------------------------------------------------------------


def can_manage_standards(user: Any, division: Division) -> bool:
    """The municipal office writes, publishes and retires its city's standards."""
    if is_super(user):
        return True
    return any(g.role == Role.CITY_ADMIN and division.path.startswith(g.path) for g in grants(user))


# --- Campaigns -----------------------------------------------------------------------------


def can_manage_campaigns(user: Any, division: Division) -> bool:
    """The office that runs a campaign (city administrator or county officer) plans it."""
    if is_super(user):
        return True
    return any(
        g.role in (Role.CITY_ADMIN, Role.COUNTY_OFFICER) and division.path.startswith(g.path)
        for g in grants(user)
    )


def can_update_task(user: Any, task: Any) -> bool:
    """The unit that owns a task reports on it, and so does any manager above it."""
    if is_super(user) or _within(task.division.path, manage_paths(user)):
        return True
    return is_community_staff(user, task.division)


# --- Scoring -------------------------------------------------------------------------------


def conflicted_over(user: Any, community: Division, *, acting_at: str = "") -> bool:
    """Whether judging `community` would have the person judge his own: he holds a community or
    town role over it (its staff, the officer of its town), or lives or works there (his home
    division is the community or its town). Nobody scores, reviews or leads over it then.

    `acting_at`: the path of the office he judges from, when the step is that office's own job
    (a town officer reviews his own town's communities): a tie at that very office is then the
    job, not a conflict; any tie below it still is."""
    path = community.path
    return any(path.startswith(tie) and tie != acting_at for tie in tie_paths(user))


def tie_paths(user: Any) -> list[str]:
    """The subtrees a person is tied to (`conflicted_over`): where he holds a community or town
    role, and the community or town where he lives or works."""
    ties = [g.path for g in grants(user) if g.role in LOCAL_ROLES]
    home = getattr(user, "home_division", None)
    if home is not None and home.level in (Level.TOWN, Level.COMMUNITY):
        ties.append(home.path)
    return ties


def ties_q(user: Any, path_field: str) -> Q | None:
    """`conflicted_over` as a filter on a community path field; None when he has no tie."""
    ties = tie_paths(user)
    return _under(path_field, ties) if ties else None


def can_score(user: Any, community: Division, department_id: int) -> bool:
    """An assessor scores the items of his own department, for communities within his division."""
    return department_id in score_departments(user, community)


def score_departments(user: Any, community: Division) -> set[int | None]:
    """The departments whose items the person may score for `community` (`can_score` for each),
    answered at once from the grants the request read: a page of items asks this once."""
    if conflicted_over(user, community):
        return set()
    return {
        g.department_id
        for g in grants(user)
        if g.role == Role.ASSESSOR and community.path.startswith(g.path)
    }


def lead_role_fits(role: str, at: str, round_: Any) -> bool:
    """Whether a role held at the path `at` fits the lead named on the round (the one rule of
    who may be named, read by `can_lead_round` and the round form's list): a municipal round is
    led from the municipal office, so that no county officer judges the counties' work, decides
    objections to his own county's namings or manages its titles; a county round by a county or
    city officer of the campaign's area."""
    path = round_.campaign.division.path
    if round_.level == Level.CITY:
        return role == Role.CITY_ADMIN and path.startswith(at)
    return role in (Role.COUNTY_OFFICER, Role.CITY_ADMIN) and (
        path.startswith(at) or at.startswith(path)
    )


def can_lead_round(user: Any, round_: Any, county: Division | None = None) -> bool:
    """Whether the person leads the round, or, given a county, that county's part of it.

    A municipal round is led by the municipal office. The county round of a campaign run by a
    city comes in county parts (ADR 12): the city administrator leads every part and the round
    as a whole, a county officer only his own county's part. The county round of a campaign run
    by a county is led by that county's office. A lead named on the round leads all of it.
    A closed account leads nothing, whatever it holds."""
    if is_super(user):
        return True
    if not getattr(user, "is_active", False):
        return False
    path = round_.campaign.division.path
    # A named lead leads while he is active and holds a role that fits (`lead_role_fits`): one
    # who lost it (moved, retired) kept leading through his id alone, and a county officer
    # named lead of a municipal round published its notice, assigned its appeals and managed
    # the titles of his own county's communities.
    if (
        round_.lead_id is not None
        and round_.lead_id == getattr(user, "pk", None)
        and getattr(user, "is_active", False)
        and any(lead_role_fits(g.role, g.path, round_) for g in grants(user))
    ):
        return True
    if round_.level == Level.COUNTY and round_.campaign.division.level == Level.CITY:
        return any(
            (g.role == Role.CITY_ADMIN and path.startswith(g.path))
            or (
                g.role == Role.COUNTY_OFFICER
                and county is not None
                and county.path.startswith(path)
                and county.path.startswith(g.path)
            )
            for g in grants(user)
        )
    role = Role.COUNTY_OFFICER if round_.level == Level.COUNTY else Role.CITY_ADMIN
    return any(
        g.role == role and (path.startswith(g.path) or g.path.startswith(path))
        for g in grants(user)
    )


# --- Employment station ---------------------------------------------------------------------
# The ledger holds personal data: only the community's own staff and the managers of the divisions
# above it (town, county, city offices) read it. Assessors and viewers see the indicators, with
# de-identified drill-downs, never the ledger.

LEDGER_ROLES = {Role.COMMUNITY_STAFF, Role.TOWN_OFFICER, Role.COUNTY_OFFICER, Role.CITY_ADMIN}


def ledger_paths(user: Any) -> list[str]:
    return sorted({g.path for g in grants(user) if g.role in LEDGER_ROLES})


def ledger_scope(user: Any, path_field: str) -> Q:
    if is_super(user):
        return Q()
    return _under(path_field, ledger_paths(user))


def ledger_communities(user: Any) -> QuerySet[Division]:
    """The communities whose employment ledger (and survey household list) this person keeps."""
    return Division.objects.filter(level=Level.COMMUNITY).filter(ledger_scope(user, "path"))


def can_keep_ledger(user: Any, community: Division) -> bool:
    return is_super(user) or _within(community.path, ledger_paths(user))


def can_review_vacancy(user: Any, community: Division) -> bool:
    """A post is reviewed above the community that filed it: the town, county or city office."""
    if is_super(user):
        return True
    return any(
        g.role in MANAGER_ROLES and community.path.startswith(g.path) and community.path != g.path
        for g in grants(user)
    )


def can_see_sensitive(user: Any) -> bool:
    """Disability and subsistence-allowance flags: only people given that permission by name."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(
        "employment.view_sensitive_flags"
    )


def can_reveal_id(user: Any, community: Division) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.has_perm("employment.reveal_id_number")
        and can_keep_ledger(user, community)
    )


# --- Offices -----------------------------------------------------------------------------------
# Who answers for a division's own work: the role held at its level (a community's staff, a
# town's officers, a county's officers, the municipal office). Reminders and escalation
# (ADR 26) tell these people, never someone who only reads the division or works below it.

OFFICE_ROLE: dict[str, str] = {level: role for role, level in ROLE_LEVEL.items() if level}


def office_holders(divisions: Iterable[Division]) -> dict[int, list[User]]:
    """division id -> the active people holding that division's own office (one query)."""
    wanted = {d.pk: OFFICE_ROLE.get(d.level) for d in divisions}
    found: dict[int, list[User]] = {pk: [] for pk in wanted}
    rows = (
        RoleAssignment.objects.filter(division_id__in=list(wanted), user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    for row in rows:
        if wanted.get(row.division_id) == row.role and row.user not in found[row.division_id]:
            found[row.division_id].append(row.user)
    return found
