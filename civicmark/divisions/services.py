"""Every write to divisions, profiles, departments and working groups: one function each."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.divisions.models import (
    CommunityProfile,
    Department,
    Division,
    WorkingGroup,
    WorkingGroupMember,
)

PROFILE_FIELDS = [
    "committee",
    "households",
    "residents",
    "area_km2",
    "floor_space_m2",
    "staff",
    "is_pilot",
    "note",
]


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if v is not None and not isinstance(v, bool | int | str) else v)
        for k, v in values.items()
    }


def profile_update(*, actor: Any, community: Division, values: dict[str, Any]) -> CommunityProfile:
    if not authz.can_edit_profile(actor, community):
        raise NotAllowed(_("You may not change this community's profile."))
    with transaction.atomic():
        profile, _created = CommunityProfile.objects.select_for_update().get_or_create(
            division=community
        )
        before = {f: getattr(profile, f) for f in PROFILE_FIELDS}
        changed = [f for f in PROFILE_FIELDS if f in values and values[f] != before[f]]
        if not changed:
            return profile
        for f in changed:
            setattr(profile, f, values[f])
        profile.save(update_fields=changed)
        audit.record(
            actor=actor,
            action="profile.updated",
            object_type="community",
            object_ref=community.code,
            scope_path=community.path,
            summary=community.name,
            before=_jsonable({f: before[f] for f in changed}),
            after=_jsonable({f: values[f] for f in changed}),
        )
    return profile


def department_save(
    *, actor: Any, code: str, name: str, division: Division, department: Department | None = None
) -> Department:
    """Create a department, or change `department` (its code stays: files refer to it)."""
    if not authz.can_manage_departments(actor, division) or (
        department is not None and not authz.can_manage_departments(actor, department.division)
    ):
        raise NotAllowed(_("You may not manage the departments of %s.") % division.name)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ApplicationError(_("A department needs a code and a name."))
    with transaction.atomic():
        if department is None:
            if Department.objects.filter(code=code).exists():
                raise ApplicationError(_("Department code %s is already used.") % code)
            department = Department.objects.create(code=code, name=name, division=division)
            audit.record(
                actor=actor,
                action="department.created",
                object_type="department",
                object_ref=code,
                scope_path=division.path,
                summary=name,
                after={"name": name, "division": division.code},
            )
            return department
        before = {"name": department.name, "division": department.division.code}
        department.name, department.division = name, division
        department.save(update_fields=["name", "division"])
        audit.record(
            actor=actor,
            action="department.updated",
            object_type="department",
            object_ref=department.code,
            scope_path=division.path,
            summary=name,
            before=before,
            after={"name": name, "division": division.code},
        )
    return department


def working_group_create(
    *, actor: Any, division: Division, name: str, purpose: str = ""
) -> WorkingGroup:
    if not authz.can_manage_groups(actor, division):
        raise NotAllowed(_("You may not form a working group for %s.") % division.name)
    name = name.strip()
    if not name:
        raise ApplicationError(_("A working group needs a name."))
    with transaction.atomic():
        if WorkingGroup.objects.filter(division=division, name=name).exists():
            raise ApplicationError(
                _("%(division)s already has a working group named %(name)s.")
                % {"division": division.name, "name": name}
            )
        group = WorkingGroup.objects.create(division=division, name=name, purpose=purpose.strip())
        audit.record(
            actor=actor,
            action="working_group.created",
            object_type="working_group",
            object_ref=str(group.public_id),
            scope_path=division.path,
            summary=name,
            after={"name": name, "purpose": group.purpose},
        )
    return group


def working_group_member_add(
    *,
    actor: Any,
    group: WorkingGroup,
    name: str,
    duty: str = "",
    is_leader: bool = False,
    user: Any = None,
    department: Department | None = None,
) -> WorkingGroupMember:
    if not authz.can_manage_groups(actor, group.division):
        raise NotAllowed(_("You may not change this working group."))
    # A member's account and department must themselves be within the actor's reach: a form
    # must not be able to attach someone from another county (cross-reference IDOR).
    if user is not None and not authz.users_for_user(actor).filter(pk=user.pk).exists():
        raise NotAllowed(_("That person is outside your area."))
    if (
        department is not None
        and not authz.departments_for_user(actor).filter(pk=department.pk).exists()
    ):
        raise NotAllowed(_("That department is outside your area."))
    name = (name or (str(user) if user else "")).strip()
    if not name:
        raise ApplicationError(_("A member needs a name."))
    with transaction.atomic():
        member = WorkingGroupMember.objects.create(
            group=group,
            name=name,
            duty=duty.strip(),
            is_leader=is_leader,
            user=user,
            department=department,
        )
        audit.record(
            actor=actor,
            action="working_group.member_added",
            object_type="working_group",
            object_ref=str(group.public_id),
            scope_path=group.division.path,
            summary=name,
            after={
                "name": name,
                "duty": member.duty,
                "leader": is_leader,
                "department": department.code if department else None,
            },
        )
    return member


def working_group_member_remove(*, actor: Any, member: WorkingGroupMember) -> None:
    group = member.group
    if not authz.can_manage_groups(actor, group.division):
        raise NotAllowed(_("You may not change this working group."))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="working_group.member_removed",
            object_type="working_group",
            object_ref=str(group.public_id),
            scope_path=group.division.path,
            summary=member.name,
            before={"name": member.name, "duty": member.duty},
        )
        member.delete()
