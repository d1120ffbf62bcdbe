"""Every write to standards: import, publish, new draft, retire."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, ImportRefused, NotAllowed, PlaceError
from civicmark.divisions.models import Department, Division, Level
from civicmark.standards.models import (
    AwardLevel,
    Category,
    Item,
    Requirement,
    Standard,
    Status,
    VetoItem,
)
from civicmark.standards.rules import (
    CategoryData,
    ItemData,
    LevelData,
    StandardData,
    VetoData,
    check_methods,
    validate,
)


def standard_data(standard: Standard) -> StandardData:
    """Read a stored standard back as plain values (what exports write)."""
    categories = {
        c.pk: CategoryData(c.code, c.name, c.points, c.min_points)
        for c in standard.categories.all()
    }
    others: dict[int, list[str]] = {}
    through = Item.other_departments.through
    for item_id, code in (
        through.objects.filter(item__standard=standard)
        .order_by("pk")
        .values_list("item_id", "department__code")
    ):
        others.setdefault(item_id, []).append(code)
    for item in standard.items.select_related("department").order_by("order"):
        categories[item.category_id].items.append(
            ItemData(
                item.code,
                item.title,
                item.points,
                item.method,
                # Items stored before the words were kept have only their one method.
                item.check_words or item.check_method,
                item.department.code,
                item.evidence,
                kind=item.kind,
                step=item.step,
                per_occurrence=item.per_occurrence,
                floor=item.floor,
                na_rule=item.na_rule,
                gate_below=item.gate_below.normalize() if item.gate_below is not None else None,
                gate_effect=item.gate_effect,
                gate_level=item.gate_level,
                other_departments=others.get(item.pk, []),
            )
        )
    return StandardData(
        slug=standard.slug,
        name=standard.name,
        version=standard.version,
        total_points=standard.total_points,
        pass_threshold=standard.pass_threshold,
        levels=[LevelData(lv.name, lv.min_score, lv.passing) for lv in standard.levels.all()],
        requirements=[(r.area, r.text) for r in standard.requirements.all()],
        categories=list(categories.values()),
        vetoes=[
            VetoData(v.code, v.condition, v.department.code, effect=v.effect, cap_level=v.cap_level)
            for v in standard.vetoes.select_related("department")
        ],
        step=standard.step,
        bonus_cap=standard.bonus_cap,
    )


def _default_city() -> Division:
    cities = list(Division.objects.filter(level=Level.CITY)[:2])
    if len(cities) != 1:
        raise ApplicationError(_("Name the city the standard belongs to."))
    return cities[0]


def standard_import(
    *,
    actor: Any,
    data: StandardData,
    division: Division | None = None,
    publish: bool = False,
    via: str = "web",
) -> tuple[Standard, bool]:
    """Store a standard version; return it and whether anything changed.

    Importing a version that is already stored with the same content changes nothing; a
    published version with different content is refused (raise the version instead).
    """
    division = division or _default_city()
    if not authz.can_manage_standards(actor, division):
        raise NotAllowed(_("You may not manage the standards of %s.") % division.name)
    departments = {d.code: d for d in Department.objects.all()}
    errors = validate(data, set(departments))
    if not data.slug:
        errors.append(PlaceError(_("The standard has no slug."), sheet="standard", column="slug"))
    if data.version < 1:
        errors.append(
            PlaceError(_("The version must be 1 or more."), sheet="standard", column="version")
        )
    if errors:
        raise ImportRefused(errors=errors)
    with transaction.atomic():
        existing = (
            Standard.objects.select_for_update()
            .filter(slug=data.slug, version=data.version)
            .first()
        )
        if existing is not None:
            if existing.division_id != division.pk:
                raise ImportRefused(
                    errors=[
                        PlaceError(
                            _("%(slug)s v%(v)s belongs to another city.")
                            % {"slug": data.slug, "v": data.version}
                        )
                    ]
                )
            old = standard_data(existing)
            same = old.comparable() == data.comparable()
            if existing.is_published and not same:
                raise ImportRefused(
                    errors=[
                        PlaceError(
                            _(
                                "Version %(v)s of %(slug)s is published and cannot change; give the file a new version."
                            )
                            % {"v": data.version, "slug": data.slug},
                            sheet="standard",
                            column="version",
                        )
                    ]
                )
            if same:
                if publish and not existing.is_published:
                    standard_publish(actor=actor, standard=existing, via=via)
                    return existing, True
                return existing, False
            # A draft is replaced whole: its old content goes into the event, so that the trail
            # can put it back.
            replaced = _content(old)
            _clear(existing)
            existing.name, existing.total_points, existing.pass_threshold = (
                data.name,
                data.total_points,
                data.pass_threshold,
            )
            existing.step, existing.bonus_cap = data.step, data.bonus_cap
            existing.save(
                update_fields=["name", "total_points", "pass_threshold", "step", "bonus_cap"]
            )
            standard = existing
        else:
            replaced = None
            standard = Standard.objects.create(
                slug=data.slug,
                version=data.version,
                name=data.name,
                total_points=data.total_points,
                pass_threshold=data.pass_threshold,
                step=data.step,
                bonus_cap=data.bonus_cap,
                division=division,
            )
        _write_content(standard, data, departments)
        audit.record(
            actor=actor,
            via=via,
            action="standard.imported",
            object_type="standard",
            object_ref=f"{standard.slug}@{standard.version}",
            scope_path=division.path,
            summary=standard.name,
            before=replaced,
            after={"items": sum(len(c.items) for c in data.categories)}
            if replaced is None
            else _content(data),
        )
        if publish:
            standard_publish(actor=actor, standard=standard, via=via)
    return standard, True


# The rules of real tables at their defaults: left out of the trail, as they are of the YAML.
_DEFAULTS: dict[str, Any] = {
    "kind": "graded",
    "step": None,
    "per_occurrence": None,
    "floor": None,
    "na_rule": "exclude",
    "gate_below": None,
    "gate_effect": "",
    "gate_level": "",
    "other_departments": [],
    "effect": "fail",
    "cap_level": "",
}


def _content(data: StandardData) -> dict[str, Any]:
    """A standard's whole content as JSON values, without the places in its source file."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {
                k: plain(v)
                for k, v in value.items()
                if k not in ("row", "key_rows") and not (k in _DEFAULTS and v == _DEFAULTS[k])
            }
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    content = plain(dataclasses.asdict(data))
    content["levels"] = [[lv.name, str(lv.min_score), lv.passing] for lv in data.levels]
    return content  # type: ignore[no-any-return]


def _clear(standard: Standard) -> None:
    for model in (Item, Category, VetoItem, AwardLevel, Requirement):
        model.objects.filter(standard=standard).delete()


def _write_content(
    standard: Standard, data: StandardData, departments: dict[str, Department]
) -> None:
    AwardLevel.objects.bulk_create(
        AwardLevel(standard=standard, name=lv.name, min_score=lv.min_score, passing=lv.passing)
        for lv in data.levels
    )
    Requirement.objects.bulk_create(
        Requirement(standard=standard, area=a, text=t, order=i)
        for i, (a, t) in enumerate(data.requirements)
    )
    order = 0
    links: list[Any] = []
    for position, cat in enumerate(data.categories):
        category = Category.objects.create(
            standard=standard,
            code=cat.code,
            name=cat.name,
            points=cat.points,
            min_points=cat.min_points,
            order=position,
        )
        items = []
        for item in cat.items:
            methods = check_methods(item.check)
            items.append(
                Item(
                    standard=standard,
                    category=category,
                    code=item.code,
                    title=item.title,
                    points=item.points,
                    method=item.method,
                    check_method=methods[0] if methods else "",
                    check_words=item.check,
                    check_methods=methods,
                    department=departments[item.department],
                    evidence=item.evidence,
                    order=order,
                    kind=item.kind,
                    step=item.step,
                    per_occurrence=item.per_occurrence,
                    floor=item.floor,
                    na_rule=item.na_rule,
                    gate_below=item.gate_below,
                    gate_effect=item.gate_effect,
                    gate_level=item.gate_level,
                )
            )
            order += 1
        Item.objects.bulk_create(items)
        for stored, item in zip(items, cat.items, strict=True):
            links.extend(
                Item.other_departments.through(item_id=stored.pk, department=departments[code])
                for code in item.other_departments
            )
    Item.other_departments.through.objects.bulk_create(links)
    VetoItem.objects.bulk_create(
        VetoItem(
            standard=standard,
            code=v.code,
            condition=v.condition,
            department=departments[v.department],
            order=i,
            effect=v.effect,
            cap_level=v.cap_level,
        )
        for i, v in enumerate(data.vetoes)
    )


def standard_publish(*, actor: Any, standard: Standard, via: str = "web") -> Standard:
    if not authz.can_manage_standards(actor, standard.division):
        raise NotAllowed(_("You may not publish this standard."))
    if standard.status != Status.DRAFT:
        raise ApplicationError(_("Only a draft can be published."))
    errors = validate(
        standard_data(standard), set(Department.objects.values_list("code", flat=True))
    )
    if errors:
        raise ImportRefused(errors=errors)
    with transaction.atomic():
        standard.status, standard.published_at = Status.PUBLISHED, timezone.now()
        standard.save(update_fields=["status", "published_at"])
        audit.record(
            actor=actor,
            via=via,
            action="standard.published",
            object_type="standard",
            object_ref=f"{standard.slug}@{standard.version}",
            scope_path=standard.division.path,
            summary=standard.name,
        )
    return standard


def standard_new_draft(*, actor: Any, standard: Standard) -> Standard:
    """Editing a published standard starts here: a copy as the next version, in draft."""
    if not authz.can_manage_standards(actor, standard.division):
        raise NotAllowed(_("You may not manage this standard."))
    data = standard_data(standard)
    latest = Standard.objects.filter(slug=standard.slug).order_by("-version").first()
    data.version = (latest.version if latest else standard.version) + 1
    draft, _changed = standard_import(actor=actor, data=data, division=standard.division)
    return draft


def standard_retire(*, actor: Any, standard: Standard) -> Standard:
    if not authz.can_manage_standards(actor, standard.division):
        raise NotAllowed(_("You may not manage this standard."))
    if standard.status != Status.PUBLISHED:
        raise ApplicationError(_("Only a published standard can be retired."))
    with transaction.atomic():
        standard.status = Status.RETIRED
        standard.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="standard.retired",
            object_type="standard",
            object_ref=f"{standard.slug}@{standard.version}",
            scope_path=standard.division.path,
        )
    return standard
