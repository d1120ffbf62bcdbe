"""Every write to divisions, profiles, departments and working groups: one function each."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.names import is_plain
from civicmark.divisions import moves
from civicmark.divisions.models import (
    PARENT_LEVEL,
    CommunityProfile,
    Department,
    Division,
    Level,
    LevelLabel,
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

NAME_MAX = 100  # Division.name's max_length


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if v is not None and not isinstance(v, bool | int | str) else v)
        for k, v in values.items()
    }


def profile_update(
    *, actor: Any, community: Division, values: dict[str, Any], via: str = "web"
) -> CommunityProfile:
    """Change the fields named in `values`; a field not named is left as it is."""
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
            via=via,
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
    *,
    actor: Any,
    code: str,
    name: str,
    division: Division,
    department: Department | None = None,
    via: str = "web",
) -> Department:
    """Create a department, or change `department` (its code stays: files refer to it)."""
    if not authz.can_manage_departments(actor, division) or (
        department is not None and not authz.can_manage_departments(actor, department.division)
    ):
        raise NotAllowed(_("You may not manage the departments of %s.") % division.name)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ApplicationError(_("A department needs a code and a name."))
    if not (is_plain(code) and is_plain(name)):
        raise ApplicationError(
            _(
                "A department's code and name hold no hidden characters (control or direction marks)."
            )
        )
    with transaction.atomic():
        if department is None:
            if Department.objects.filter(code=code).exists():
                raise ApplicationError(_("Department code %s is already used.") % code)
            department = Department.objects.create(code=code, name=name, division=division)
            audit.record(
                actor=actor,
                via=via,
                action="department.created",
                object_type="department",
                object_ref=code,
                scope_path=division.path,
                summary=name,
                after={"name": name, "division": division.code},
            )
            return department
        before = {"name": department.name, "division": department.division.code}
        after = {"name": name, "division": division.code}
        changed = [f for f in before if before[f] != after[f]]
        if not changed:
            return department
        department.name, department.division = name, division
        department.save(update_fields=changed)
        audit.record(
            actor=actor,
            via=via,
            action="department.updated",
            object_type="department",
            object_ref=department.code,
            scope_path=division.path,
            summary=name,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )
    return department


def division_update(
    *, actor: Any, division: Division, name: str, parent: Division | None, via: str = "web"
) -> Division:
    """Rename a division or move it under another parent of the level above.

    The only writer of a division's parent: a move recomputes the path of the division and of
    every division below it in the same transaction, because the path is what every scope check
    reads (a stale path would leave a moved town in its old county's sight). The event keeps the
    fields that changed, before and after, so a move can be undone from the trail.
    """
    name = name.strip()
    if not authz.can_change_division(actor, division):
        raise NotAllowed(_("You may not change %s.") % division.name)
    if not name:
        raise ApplicationError(_("The name is empty."))
    if not is_plain(name):
        raise ApplicationError(_("The name holds hidden characters (control or direction marks)."))
    if len(name) > NAME_MAX:
        raise ApplicationError(_("A name has at most %d characters.") % NAME_MAX)
    wanted = PARENT_LEVEL[Level(division.level)]
    if (parent.level if parent else None) != wanted:
        raise ApplicationError(
            _("A %(level)s must belong to a %(wanted)s.")
            % {
                "level": Level(division.level).label,
                "wanted": Level(wanted).label if wanted else "—",
            }
        )
    new_path = f"{parent.path if parent else '/'}{division.code}/"
    if not authz.can_change_path(actor, new_path):
        raise NotAllowed(_("You may not move %s there: it lies outside your area.") % division.name)
    with transaction.atomic():
        locked = (
            Division.objects.select_for_update(of=("self",))
            .select_related("parent")
            .get(pk=division.pk)
        )
        before = {
            "name": locked.name,
            "parent": locked.parent.code if locked.parent else None,
            "path": locked.path,
        }
        after = {"name": name, "parent": parent.code if parent else None, "path": new_path}
        changed = [f for f in before if before[f] != after[f]]
        if not changed:
            return locked
        summary = name
        if "path" in changed and (refused := moves.refusals(locked.path, new_path)):
            raise ApplicationError(" ".join(refused))
        if "path" in changed:
            moved = _move_below(old_path=locked.path, new_path=new_path)
            summary = _("%(name)s (%(n)d divisions below moved with it)") % {
                "name": name,
                "n": moved,
            }
        locked.name, locked.parent, locked.path = name, parent, new_path
        locked.save(update_fields=["name", "parent", "path"])
        audit.record(
            actor=actor,
            via=via,
            action="division.updated",
            object_type="division",
            object_ref=locked.code,
            scope_path=new_path,
            summary=summary,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )
    return locked


def _move_below(*, old_path: str, new_path: str) -> int:
    """Give every division strictly below `old_path` its path under `new_path`."""
    below = list(
        Division.objects.select_for_update()
        .filter(path__startswith=old_path)
        .exclude(path=old_path)
        .only("pk", "path")
    )
    for child in below:
        child.path = new_path + child.path[len(old_path) :]
    Division.objects.bulk_update(below, ["path"], batch_size=1000)
    return len(below)


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


def level_label_save(
    *, actor: Any, level: str, name_zh: str, name_en: str, via: str = "admin"
) -> LevelLabel:
    """Name a level as the province does ("district", "subdistrict"): one name for everyone,
    so only the operator (a superuser) sets it."""
    if not authz.is_super(actor):
        raise NotAllowed(_("Only the operator names the levels."))
    if level not in Level.values:
        raise ApplicationError(_("Unknown level “%s”.") % level)
    name_zh, name_en = name_zh.strip(), name_en.strip()
    if not name_zh or not name_en:
        raise ApplicationError(_("A level needs a Chinese and an English name."))
    with transaction.atomic():
        label = LevelLabel.objects.select_for_update().filter(level=level).first()
        before = {"name_zh": label.name_zh, "name_en": label.name_en} if label else {}
        after = {"name_zh": name_zh, "name_en": name_en}
        changed = [f for f in after if before.get(f) != after[f]]
        if label is not None and not changed:
            return label
        if label is None:
            label = LevelLabel.objects.create(level=level, **after)
        else:
            label.name_zh, label.name_en = name_zh, name_en
            label.save(update_fields=changed)
        audit.record(
            actor=actor,
            via=via,
            action="level_label.saved",
            object_type="level_label",
            object_ref=level,
            summary=f"{name_zh} / {name_en}",
            before={f: before[f] for f in changed if f in before} or None,
            after={f: after[f] for f in changed},
        )
    return label
