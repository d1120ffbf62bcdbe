"""Import and export of divisions (with community profiles) and departments.

Every import is all-or-nothing: all rows are checked first and every error is reported with its
row and column; only a file with no error is written, in one transaction. Importing the same
file again finds nothing to change and writes nothing (not even an audit event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.places.services import department_save, division_update, profile_update
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, ImportRefused, PlaceError
from civicmark.core.names import is_plain
from civicmark.core.tabular import (
    Column,
    limit,
    parse_decimal,
    parse_int,
    read_table,
    write_table,
)
from civicmark.divisions.models import (
    LEVEL_ORDER,
    PARENT_LEVEL,
    CommunityProfile,
    Department,
    Division,
    Level,
    LevelLabel,
)

DIVISION_COLUMNS = [
    Column("code", ("代码", "区划代码"), max_length=limit(Division, "code")),
    Column("name", ("名称",), max_length=limit(Division, "name")),
    Column("level", ("层级",)),
    Column("parent_code", ("上级代码",), max_length=limit(Division, "code")),
    Column(
        "committee", ("居委会",), required=False, max_length=limit(CommunityProfile, "committee")
    ),
    Column("households", ("户数",), required=False),
    Column("residents", ("人口", "人口数"), required=False),
    Column("area_km2", ("面积", "面积(平方公里)"), required=False),
    Column("floor_space_m2", ("用房面积", "用房面积(平方米)"), required=False),
    Column("staff", ("工作人员", "工作人员数"), required=False),
    Column("note", ("备注",), required=False),
]
DIVISION_HEADERS_ZH = [
    "代码",
    "名称",
    "层级",
    "上级代码",
    "居委会",
    "户数",
    "人口",
    "面积",
    "用房面积",
    "工作人员",
    "备注",
]
PROFILE_KEYS = [
    "committee",
    "households",
    "residents",
    "area_km2",
    "floor_space_m2",
    "staff",
    "note",
]
LEVEL_ZH = {Level.CITY: "市", Level.COUNTY: "县", Level.TOWN: "镇", Level.COMMUNITY: "社区"}
_LEVEL_WORDS = {
    "city": Level.CITY,
    "市": Level.CITY,
    "county": Level.COUNTY,
    "district": Level.COUNTY,
    "县": Level.COUNTY,
    "区": Level.COUNTY,
    "town": Level.TOWN,
    "street": Level.TOWN,
    "subdistrict": Level.TOWN,
    "镇": Level.TOWN,
    "街道": Level.TOWN,
    "乡": Level.TOWN,
    "community": Level.COMMUNITY,
    "社区": Level.COMMUNITY,
}

DEPARTMENT_COLUMNS = [
    Column("code", ("代码",), max_length=limit(Department, "code")),
    Column("name", ("名称",), max_length=limit(Department, "name")),
    Column("division_code", ("所属区划代码", "区划代码"), max_length=limit(Division, "code")),
]
DEPARTMENT_HEADERS_ZH = ["代码", "名称", "所属区划代码"]


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _level_word(text: str) -> str | None:
    word = text.strip().lower()
    if word in _LEVEL_WORDS:
        return _LEVEL_WORDS[word]
    for label in LevelLabel.objects.all():
        if text.strip() in (label.name_zh, label.name_en):
            return label.level
    return None


@dataclass
class _Row:
    number: int
    code: str
    name: str
    level: str
    parent_code: str
    profile: dict[str, Any]


def _parse_division_rows(
    rows: list[tuple[int, dict[str, str]]],
) -> tuple[list[_Row], list[PlaceError]]:
    errors: list[PlaceError] = []
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for number, raw in rows:

        def err(column: str, message: str, number: int = number, raw: dict = raw) -> None:
            errors.append(PlaceError(message, row=number, column=column, value=raw.get(column)))

        code, name = raw["code"].strip(), raw["name"].strip()
        if not code:
            err("code", _("The code is empty."))
        elif code in seen:
            err(
                "code",
                _("Code %(code)s is already used in row %(row)s.")
                % {"code": code, "row": seen[code]},
            )
        elif "/" in code or len(code) > 32 or not is_plain(code):
            err("code", _("A code has at most 32 characters, no “/” and no hidden characters."))
        else:
            seen[code] = number
        if not name:
            err("name", _("The name is empty."))
        elif not is_plain(name):
            err("name", _("The name holds hidden characters (control or direction marks)."))
        level = _level_word(raw["level"])
        if level is None:
            err(
                "level",
                _("Unknown level “%s”: use city, county, town or community (市/县/镇/社区).")
                % raw["level"],
            )
        # Only the columns the file has: a column left out of the file leaves its field alone,
        # while an empty cell in a column that is there empties the field.
        profile: dict[str, Any] = {}
        for key, parser in (
            ("households", parse_int),
            ("residents", parse_int),
            ("staff", parse_int),
            ("area_km2", parse_decimal),
            ("floor_space_m2", parse_decimal),
        ):
            if key not in raw:
                continue
            try:
                profile[key] = parser(raw[key].strip())
            except ValueError as exc:
                err(key, str(exc))
        for key in ("committee", "note"):
            if key in raw:
                profile[key] = raw[key].strip()
        if level and level != Level.COMMUNITY:
            for key in PROFILE_KEYS:
                if raw.get(key, "").strip():
                    err(
                        key,
                        _("Only a community has a profile; leave this cell empty for a %s.")
                        % level,
                    )
        parsed.append(_Row(number, code, name, level or "", raw["parent_code"].strip(), profile))
    return parsed, errors


def _check_tree(rows: list[_Row], errors: list[PlaceError]) -> dict[str, str]:
    """Check parents, levels and cycles; return each row's final path."""
    in_file = {r.code: r for r in rows if r.code}
    existing = {
        d.code: d
        for d in Division.objects.filter(
            code__in={r.code for r in rows} | {r.parent_code for r in rows}
        )
    }
    for row in rows:
        if row.code in existing and row.level and existing[row.code].level != row.level:
            errors.append(
                PlaceError(
                    _("%(code)s is already a %(old)s; its level cannot change to %(new)s.")
                    % {"code": row.code, "old": existing[row.code].level, "new": row.level},
                    row=row.number,
                    column="level",
                )
            )
    # Cycles first: a parent chain inside the file that comes back to where it started.
    cyclic: set[str] = set()
    for row in rows:
        chain, code = [], row.code
        while code in in_file and code not in chain:
            chain.append(code)
            code = in_file[code].parent_code
        if code in chain and row.code not in cyclic:
            loop = chain[chain.index(code) :]
            cyclic.update(loop)
            errors.append(
                PlaceError(
                    _("The parent codes form a cycle: %s.") % " → ".join([*loop, code]),
                    row=row.number,
                    column="parent_code",
                )
            )
    paths: dict[str, str] = {}

    def parent_level(code: str) -> str | None:
        if code in in_file:
            return in_file[code].level
        return existing[code].level if code in existing else None

    for row in rows:
        if not row.level or row.code in cyclic:
            continue
        wanted = PARENT_LEVEL[Level(row.level)]
        if wanted is None:
            if row.parent_code:
                errors.append(
                    PlaceError(
                        _("A city has no parent code."), row=row.number, column="parent_code"
                    )
                )
            continue
        if not row.parent_code:
            errors.append(
                PlaceError(
                    _("The parent code is empty; a %s needs one.") % row.level,
                    row=row.number,
                    column="parent_code",
                )
            )
        elif row.parent_code not in in_file and row.parent_code not in existing:
            errors.append(
                PlaceError(
                    _("Unknown parent code %s: it is neither in this file nor in the system.")
                    % row.parent_code,
                    row=row.number,
                    column="parent_code",
                )
            )
        elif parent_level(row.parent_code) not in (None, wanted):
            errors.append(
                PlaceError(
                    _("A %(level)s must belong to a %(wanted)s, but %(parent)s is a %(actual)s.")
                    % {
                        "level": row.level,
                        "wanted": wanted,
                        "parent": row.parent_code,
                        "actual": parent_level(row.parent_code),
                    },
                    row=row.number,
                    column="parent_code",
                )
            )
    if errors:
        return paths
    for row in sorted(rows, key=lambda r: LEVEL_ORDER.index(Level(r.level))):
        if not row.parent_code:
            paths[row.code] = f"/{row.code}/"
        else:
            base = paths.get(row.parent_code) or existing[row.parent_code].path
            paths[row.code] = f"{base}{row.code}/"
    return paths


def divisions_import(*, actor: Any, data: bytes, filename: str, via: str = "web") -> ImportSummary:
    table = read_table(data, filename, DIVISION_COLUMNS)
    rows, errors = _parse_division_rows(table.rows)
    paths = _check_tree(rows, errors)
    if actor is not None and not errors:
        existing_paths = dict(Division.objects.filter(code__in=paths).values_list("code", "path"))
        for row in rows:
            targets = [paths[row.code], existing_paths.get(row.code, paths[row.code])]
            if not all(authz.can_change_path(actor, p) for p in targets):
                errors.append(
                    PlaceError(
                        _("You may not create or change %s: it lies outside your area.") % row.code,
                        row=row.number,
                        column="code",
                    )
                )
    if errors:
        raise ImportRefused(errors=errors)
    with transaction.atomic():
        summary = _write_divisions(rows, actor=actor, via=via)
        if summary.changed:
            audit.record(
                actor=actor,
                via=via,
                action="divisions.imported",
                object_type="division",
                object_ref=filename[:64],
                scope_path=_common_path(paths.values()),
                summary=_("%(c)d created, %(u)d updated")
                % {"c": len(summary.created), "u": len(summary.updated)},
                after=summary.as_dict(),
            )
    return summary


def _common_path(paths: Any) -> str:
    parts_list = [[p for p in path.split("/") if p] for path in paths]
    if not parts_list:
        return ""
    common: list[str] = []
    for group in zip(*parts_list, strict=False):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    return "/" + "/".join(common) + "/" if common else ""


def _write_divisions(rows: list[_Row], *, actor: Any, via: str) -> ImportSummary:
    """Create what is new; change what differs through the services that own each change (a
    rename or move through `division_update`, a profile through `profile_update`), so that each
    changed division and profile has its own event with the fields' before and after values."""
    summary = ImportSummary()
    codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
    profiles = {
        p.division.code: p
        for p in CommunityProfile.objects.filter(division__code__in=codes).select_related(
            "division"
        )
    }
    for level in LEVEL_ORDER:
        # Read again level by level: a move above changes the paths of what lies below it.
        by_code = {d.code: d for d in Division.objects.filter(code__in=codes)}
        for row in (r for r in rows if r.level == level):
            parent = by_code.get(row.parent_code) if row.parent_code else None
            division = by_code.get(row.code)
            if division is None:
                division = Division.objects.create(
                    code=row.code,
                    name=row.name,
                    level=row.level,
                    parent=parent,
                    path=f"{parent.path if parent else '/'}{row.code}/",
                )
                by_code[row.code] = division
                if row.level == Level.COMMUNITY:
                    CommunityProfile.objects.create(division=division, **row.profile)
                summary.created.append(row.code)
                continue
            changed = False
            if (division.name, division.parent_id) != (row.name, getattr(parent, "pk", None)):
                try:
                    division_update(
                        actor=actor, division=division, name=row.name, parent=parent, via=via
                    )
                except ApplicationError as exc:  # a move refused (a campaign's communities)
                    raise ImportRefused(
                        errors=[
                            PlaceError(
                                exc.message, row=row.number, column="parent", value=row.parent_code
                            )
                        ]
                    ) from exc
                changed = True
            if row.level == Level.COMMUNITY and _profile_differs(
                profiles.get(row.code), row.profile
            ):
                profile_update(actor=actor, community=division, values=row.profile, via=via)
                changed = True
            if changed:
                summary.updated.append(row.code)
            else:
                summary.unchanged += 1
    return summary


def _profile_differs(profile: CommunityProfile | None, values: dict[str, Any]) -> bool:
    if profile is None:
        return any(v not in (None, "") for v in values.values())
    return not all(_same(getattr(profile, key), value) for key, value in values.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return (a is None and b is None) or (
            a is not None and b is not None and Decimal(a) == Decimal(b)
        )
    return a == b


def divisions_export(*, user: Any, target: Any, fmt: str, chinese: bool = False) -> int:
    """Write the divisions the user may see; `user=None` is the server operator (everything)."""
    qs = Division.objects.all() if user is None else authz.divisions_for_user(user)
    qs = qs.select_related("parent", "profile").order_by("path")
    rows = []
    for d in qs:
        p = getattr(d, "profile", None) if d.level == Level.COMMUNITY else None
        level = LEVEL_ZH[Level(d.level)] if chinese else d.level
        rows.append(
            [
                d.code,
                d.name,
                level,
                d.parent.code if d.parent else "",
                *(
                    [
                        p.committee,
                        p.households,
                        p.residents,
                        p.area_km2,
                        p.floor_space_m2,
                        p.staff,
                        p.note,
                    ]
                    if p
                    else [""] * 7
                ),
            ]
        )
    header = DIVISION_HEADERS_ZH if chinese else [c.key for c in DIVISION_COLUMNS]
    write_table(target, header, rows, fmt=fmt, sheet="divisions")
    return len(rows)


def departments_import(
    *, actor: Any, data: bytes, filename: str, via: str = "web"
) -> ImportSummary:
    table = read_table(data, filename, DEPARTMENT_COLUMNS)
    errors: list[PlaceError] = []
    divisions = {
        d.code: d
        for d in Division.objects.filter(
            code__in={r["division_code"].strip() for _n, r in table.rows}
        )
    }
    seen: dict[str, int] = {}
    clean: list[tuple[int, str, str, Division]] = []
    for number, raw in table.rows:
        code, name, dcode = raw["code"].strip(), raw["name"].strip(), raw["division_code"].strip()
        row_errors = []
        if not code:
            row_errors.append(PlaceError(_("The code is empty."), row=number, column="code"))
        elif code in seen:
            row_errors.append(
                PlaceError(
                    _("Code %(code)s is already used in row %(row)s.")
                    % {"code": code, "row": seen[code]},
                    row=number,
                    column="code",
                )
            )
        seen.setdefault(code, number)
        if code and not is_plain(code):
            row_errors.append(
                PlaceError(_("The code holds hidden characters."), row=number, column="code")
            )
        if not name:
            row_errors.append(PlaceError(_("The name is empty."), row=number, column="name"))
        elif not is_plain(name):
            row_errors.append(
                PlaceError(
                    _("The name holds hidden characters (control or direction marks)."),
                    row=number,
                    column="name",
                )
            )
        division = divisions.get(dcode)
        if division is None:
            row_errors.append(
                PlaceError(
                    _("Unknown division code %s.") % (dcode or "—"),
                    row=number,
                    column="division_code",
                )
            )
        elif division.level not in (Level.CITY, Level.COUNTY):
            row_errors.append(
                PlaceError(
                    _("A department belongs to a city or county government, not to %s.")
                    % division.name,
                    row=number,
                    column="division_code",
                )
            )
        elif not authz.can_manage_departments(actor, division):
            row_errors.append(
                PlaceError(
                    _("You may not manage the departments of %s.") % division.name,
                    row=number,
                    column="division_code",
                )
            )
        errors.extend(row_errors)
        if not row_errors and division is not None:
            clean.append((number, code, name, division))
    existing = {
        d.code: d
        for d in Department.objects.filter(code__in=[c[1] for c in clean]).select_related(
            "division"
        )
    }
    for number, code, _name, _division in clean:
        dep = existing.get(code)
        if dep is not None and not authz.can_manage_departments(actor, dep.division):
            errors.append(
                PlaceError(_("You may not change department %s.") % code, row=number, column="code")
            )
    if errors:
        raise ImportRefused(errors=errors)
    summary = ImportSummary()
    with transaction.atomic():
        for _number, code, name, division in clean:
            dep = existing.get(code)
            if dep is not None and (dep.name, dep.division_id) == (name, division.pk):
                summary.unchanged += 1
                continue
            # One writer for a department, whatever the channel: its events keep what changed.
            department_save(
                actor=actor, code=code, name=name, division=division, department=dep, via=via
            )
            (summary.created if dep is None else summary.updated).append(code)
        if summary.changed:
            audit.record(
                actor=actor,
                via=via,
                action="departments.imported",
                object_type="department",
                object_ref=filename[:64],
                scope_path=_common_path(c[3].path for c in clean),
                summary=_("%(c)d created, %(u)d updated")
                % {"c": len(summary.created), "u": len(summary.updated)},
                after=summary.as_dict(),
            )
    return summary


def departments_export(*, user: Any, target: Any, fmt: str, chinese: bool = False) -> int:
    qs = (
        Department.objects.select_related("division")
        if user is None
        else authz.departments_for_user(user)
    )
    rows = [[d.code, d.name, d.division.code] for d in qs.order_by("code")]
    header = DEPARTMENT_HEADERS_ZH if chinese else [c.key for c in DEPARTMENT_COLUMNS]
    write_table(target, header, rows, fmt=fmt, sheet="departments")
    return len(rows)
