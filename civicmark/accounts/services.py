"""Every write to people and their roles: one function each, each with its audit event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment, User
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, ImportRefused, NotAllowed, PlaceError
from civicmark.core.tabular import Column, limit, read_table
from civicmark.divisions.models import Department, Division


def password_link(user: User, *, base: str | None = None) -> str:
    """A one-time link to set a password: it stops working once the password is set."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("set_password", kwargs={"uidb64": uid, "token": token})
    return f"{(base or settings.SITE_URL).rstrip('/')}{path}"


def _roles_held(user: User) -> list[str]:
    """The person's roles as the audit trail keeps them: "role@division[/department]"."""
    rows = RoleAssignment.objects.filter(user=user).values_list(
        "role", "division__code", "department__code"
    )
    return sorted(f"{r}@{d}/{p}" if p else f"{r}@{d}" for r, d, p in rows)


def _lock_holder(user: User) -> None:
    # Two grants to one person at once would each record a "before" without the other's role.
    User.objects.select_for_update().filter(pk=user.pk).first()


def role_grant(
    *,
    actor: Any,
    user: User,
    role: str,
    division: Division,
    department: Department | None = None,
    via: str = "web",
) -> RoleAssignment:
    refusal = authz.grant_refusal(
        actor, role=role, division=division, department=department, target=user
    )
    if refusal is not None:
        raise refusal.error()
    with transaction.atomic():
        _lock_holder(user)
        before = _roles_held(user)
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, division=division, department=department
        )
        if created:
            audit.record(
                actor=actor,
                via=via,
                action="role.granted",
                object_type="user",
                object_ref=user.username,
                scope_path=division.path,
                summary=f"{role}@{division.code}",
                before={"roles": before},
                after={"roles": _roles_held(user)},
            )
    authz.forget_grants(user)
    return assignment


def role_revoke(*, actor: Any, assignment: RoleAssignment, via: str = "web") -> None:
    refusal = authz.revoke_refusal(actor, assignment)
    if refusal is not None:
        raise refusal.error()
    holder = assignment.user
    with transaction.atomic():
        _lock_holder(holder)
        before = _roles_held(holder)
        assignment.delete()
        audit.record(
            actor=actor,
            via=via,
            action="role.revoked",
            object_type="user",
            object_ref=holder.username,
            scope_path=assignment.division.path,
            summary=f"{assignment.role}@{assignment.division.code}",
            before={"roles": before},
            after={"roles": _roles_held(holder)},
        )
    authz.forget_grants(holder)


def person_create(
    *,
    actor: Any,
    username: str,
    full_name: str,
    role: str,
    division: Division,
    department: Department | None = None,
    home_division: Division | None = None,
    via: str = "web",
) -> User:
    """Create a person with one role and no usable password: he sets it through a link."""
    username = username.strip()
    if not username or not full_name.strip():
        raise ApplicationError(_("A person needs a username and a name."))
    refusal = authz.grant_refusal(actor, role=role, division=division, department=department)
    if refusal is not None:
        raise refusal.error()
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ApplicationError(_("The username %s is taken.") % username)
        user = User(username=username, full_name=full_name.strip(), home_division=home_division)
        user.set_unusable_password()
        user.save()
        audit.record(
            actor=actor,
            via=via,
            action="person.created",
            object_type="user",
            object_ref=username,
            scope_path=division.path,
            summary=full_name,
            after={"username": username, "name": full_name},
        )
        role_grant(
            actor=actor, user=user, role=role, division=division, department=department, via=via
        )
    return user


def person_update(
    *, actor: Any, user: User, full_name: str, home_division: Division | None, is_active: bool
) -> User:
    if not authz.can_manage_user(actor, user):
        raise NotAllowed(_("You may not change this person."))
    before = {
        "name": user.full_name,
        "home": getattr(user.home_division, "code", None),
        "active": user.is_active,
    }
    with transaction.atomic():
        user.full_name, user.home_division, user.is_active = (
            full_name.strip(),
            home_division,
            is_active,
        )
        user.save(update_fields=["full_name", "home_division", "is_active"])
        audit.record(
            actor=actor,
            action="person.updated",
            object_type="user",
            object_ref=user.username,
            summary=user.full_name,
            before=before,
            after={
                "name": user.full_name,
                "home": getattr(home_division, "code", None),
                "active": is_active,
            },
            scope_path=authz.manage_paths(actor)[0] if authz.manage_paths(actor) else "",
        )
    return user


def _privileges(user: User) -> dict[str, Any]:
    perms = user.user_permissions.values_list("content_type__app_label", "codename")
    return {
        "staff": user.is_staff,
        "superuser": user.is_superuser,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(f"{app}.{code}" for app, code in perms),
    }


def person_privileges_set(
    *,
    actor: Any,
    user: User,
    is_staff: bool,
    is_superuser: bool,
    groups: list[Any],
    permissions: list[Any],
    via: str = "admin",
) -> User:
    """The powers no role carries: the admin site (staff), superuser, Django groups and
    permissions (among them revealing ID numbers, ADR 8). Only a superuser sets them, and the
    change is audited with before and after like a role."""
    if not authz.is_super(actor):
        raise NotAllowed(_("Only a superuser changes these permissions."))
    with transaction.atomic():
        _lock_holder(user)
        stored = User.objects.get(pk=user.pk)
        before = _privileges(stored)
        stored.is_staff, stored.is_superuser = is_staff, is_superuser
        stored.save(update_fields=["is_staff", "is_superuser"])
        stored.groups.set(groups)
        stored.user_permissions.set(permissions)
        after = _privileges(stored)
        if after != before:
            audit.record(
                actor=actor,
                via=via,
                action="person.privileges_changed",
                object_type="user",
                object_ref=user.username,
                summary=user.full_name or user.username,
                before=before,
                after=after,
            )
    user.is_staff, user.is_superuser = is_staff, is_superuser
    return stored


def password_link_issue(*, actor: Any, user: User) -> str:
    """Issue a fresh one-time link: to a manager for a person who has never set a password (a
    new account); once the person has set one, only the system administrator (a superuser, or
    the operator on the command line) issues him another, since whoever holds the link signs in
    as him, and a manager who could do that could score or submit in his name."""
    if not authz.can_manage_user(actor, user):
        raise NotAllowed(_("You may not change this person."))
    if user.has_usable_password() and not authz.is_super(actor):
        raise NotAllowed(
            _(
                "%s has set a password: a new one-time link comes from the system administrator, "
                "so that nobody who manages a person can sign in as him."
            )
            % user
        )
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="person.password_link",
            object_type="user",
            object_ref=user.username,
            scope_path=authz.manage_paths(actor)[0] if authz.manage_paths(actor) else "",
        )
    return password_link(user)


def password_link_used(*, user: User) -> None:
    """The trail of a password set through a one-time link (inside the view's transaction that
    saves it): who now holds the account, and when."""
    held = user.roles.select_related("division").order_by("division__path").first()
    audit.record(
        actor=user,
        action="person.password_set",
        object_type="user",
        object_ref=user.username,
        scope_path=held.division.path if held else "",
        summary=_("through a one-time link"),
    )


USER_COLUMNS = [
    Column("username", ("用户名", "账号"), max_length=limit(User, "username")),
    Column("name", ("姓名",), max_length=limit(User, "full_name")),
    Column("role", ("角色",)),
    Column("division_code", ("区划代码", "所属区划代码")),
    Column("department_code", ("部门代码",), required=False),
]


@dataclass
class UsersImported:
    created: list[tuple[User, str]] = field(default_factory=list)  # (user, one-time link)
    granted: list[str] = field(default_factory=list)
    unchanged: int = 0


# Which column of the file a refused grant is about.
_REFUSAL_COLUMN = {"user": "username", "role": "role", "department": "department_code"}


def users_import(*, actor: Any, data: bytes, filename: str, via: str = "web") -> UsersImported:
    """One row per (person, role). Existing people gain roles; nobody's name is overwritten."""
    table = read_table(data, filename, USER_COLUMNS)
    # Codes the importer cannot see are "unknown", like codes that do not exist: a refusal
    # names nothing outside his area, nor confirms that it exists.
    divisions = {
        d.code: d
        for d in authz.divisions_for_user(actor).filter(
            code__in={r["division_code"].strip() for _n, r in table.rows}
        )
    }
    departments = {
        d.code: d
        for d in authz.departments_for_user(actor).filter(
            code__in={r.get("department_code", "").strip() for _n, r in table.rows}
        )
    }
    existing = {
        u.username.lower(): u
        for u in User.objects.filter(username__in={r["username"].strip() for _n, r in table.rows})
    }
    errors: list[PlaceError] = []
    plan: list[tuple[int, str, str, str, Division, Department | None]] = []
    for number, raw in table.rows:
        username, name = raw["username"].strip(), raw["name"].strip()
        role, dcode, pcode = (
            raw["role"].strip(),
            raw["division_code"].strip(),
            raw.get("department_code", "").strip(),
        )
        start = len(errors)
        if not username:
            errors.append(PlaceError(_("The username is empty."), row=number, column="username"))
        if not name:
            errors.append(PlaceError(_("The name is empty."), row=number, column="name"))
        division, department = divisions.get(dcode), departments.get(pcode) if pcode else None
        if division is None:
            errors.append(
                PlaceError(
                    _("Unknown division code %s.") % (dcode or "—"),
                    row=number,
                    column="division_code",
                )
            )
        if pcode and department is None:
            errors.append(
                PlaceError(
                    _("Unknown department code %s.") % pcode, row=number, column="department_code"
                )
            )
        if division is not None and len(errors) == start:
            refusal = authz.grant_refusal(
                actor,
                role=role,
                division=division,
                department=department,
                target=existing.get(username.lower()),
            )
            if refusal is not None:
                column = _REFUSAL_COLUMN[refusal.field]
                errors.append(PlaceError(refusal.message, row=number, column=column))
        if len(errors) == start and division is not None:
            plan.append((number, username, name, role, division, department))
    for number, username, _n, _r, _d, _p in plan:
        user = existing.get(username.lower())
        if user is not None and actor is not None and not authz.can_manage_user(actor, user):
            errors.append(
                PlaceError(
                    _("%s exists and is outside your area.") % username,
                    row=number,
                    column="username",
                )
            )
    if errors:
        raise ImportRefused(errors=errors)
    result = UsersImported()
    with transaction.atomic():
        for _number, username, name, role, division, department in plan:
            user = existing.get(username.lower())
            if user is None:
                user = person_create(
                    actor=actor,
                    username=username,
                    full_name=name,
                    role=role,
                    division=division,
                    department=department,
                    via=via,
                )
                existing[username.lower()] = user
                result.created.append((user, ""))
                continue
            held = RoleAssignment.objects.filter(
                user=user, role=role, division=division, department=department
            )
            if held.exists():
                result.unchanged += 1
            else:
                role_grant(
                    actor=actor,
                    user=user,
                    role=role,
                    division=division,
                    department=department,
                    via=via,
                )
                result.granted.append(f"{username}:{role}@{division.code}")
    result.created = [(u, password_link(u)) for u, _link in result.created]
    return result
