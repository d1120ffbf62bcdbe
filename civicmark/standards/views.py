"""Standards pages: the list, the readable document and scoring table, import, export, versions."""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.core.errors import ApplicationError, ImportRefused
from civicmark.core.formfields import TickField
from civicmark.core.names import content_disposition
from civicmark.core.uploads import UploadForm, import_page, wants_chinese_headers
from civicmark.divisions.models import Division, Level
from civicmark.standards import formats, services
from civicmark.standards.models import CheckMethod, GateEffect, Item, ItemKind, NaRule, Standard
from civicmark.standards.selectors import standards_for_user


class StandardUploadForm(UploadForm):
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .yaml)"))
    publish = TickField(label=gettext_lazy("Publish after importing"), required=False)
    suffixes = (".xlsx", ".yaml", ".yml")


def _standard_or_404(request: HttpRequest, public_id: Any) -> Standard:
    return authz.get_visible_or_404(
        standards_for_user(request.user), request.user, public_id=public_id
    )


def _managed_city(user: Any) -> Division | None:
    cities = [
        d
        for d in authz.divisions_for_user(user).filter(level=Level.CITY)
        if authz.can_manage_standards(user, d)
    ]
    return cities[0] if len(cities) == 1 else None


@login_required
def standard_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "standards/list.html",
        {
            "standards": standards_for_user(request.user),
            "can_import": _managed_city(request.user) is not None,
        },
    )


def _n(value: Decimal | None) -> str:
    """A number as the table writes it: 10, 2.5, -5."""
    return "" if value is None else format(value.normalize(), "f")


def item_rules(item: Item, standard: Standard) -> list[str]:
    """An item's scoring rules in plain words (nothing for a graded item on the usual grid)."""
    rules: list[str] = []
    step = item.step or standard.step
    if item.kind == ItemKind.ALL_OR_NOTHING:
        rules.append(_("All or nothing: 0 or %(max)s.") % {"max": _n(item.points)})
    elif item.kind == ItemKind.PER_OCCURRENCE:
        rules.append(
            _("%(each)s off each occurrence, not below %(floor)s.")
            % {"each": _n(item.per_occurrence), "floor": _n(item.floor or Decimal(0))}
        )
    elif item.kind == ItemKind.BONUS:
        rules.append(
            _("Bonus: up to %(max)s above the total, in steps of %(step)s.")
            % {"max": _n(item.points), "step": _n(step)}
        )
    elif item.kind == ItemKind.PENALTY:
        rules.append(
            _("Penalty: down to %(floor)s, in steps of %(step)s.")
            % {"floor": _n(item.floor), "step": _n(step)}
        )
    elif item.step is not None and item.step != standard.step:
        rules.append(_("Scored in steps of %s.") % _n(item.step))
    if item.na_rule == NaRule.FULL:
        rules.append(_("When it does not apply: counted as full marks."))
    if item.gate_effect:
        effect = {
            GateEffect.VETO: _("the community is vetoed"),
            GateEffect.NO_COMMENDATION: _("the community cannot be commended"),
            GateEffect.CAP: _("the level is at most %s") % item.gate_level,
        }[GateEffect(item.gate_effect)]
        rules.append(
            _("Below %(gate)s: %(effect)s.") % {"gate": _n(item.gate_below), "effect": effect}
        )
    return rules


@login_required
def standard_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    standard = _standard_or_404(request, public_id)
    items = list(
        standard.items.select_related("category", "department")
        .prefetch_related("other_departments")
        .order_by("order")
    )
    methods = dict(CheckMethod.choices)
    for item in items:
        item.rules = item_rules(item, standard)  # type: ignore[attr-defined]
        item.methods = [methods[m] for m in item.check_methods if m in methods]  # type: ignore[attr-defined]
        if not item.methods and item.check_method:  # type: ignore[attr-defined]
            item.methods = [item.get_check_method_display()]  # type: ignore[attr-defined]
        # The words as the table wrote them, when they say more than the methods' codes.
        item.words = (  # type: ignore[attr-defined]
            item.check_words
            if item.check_words and item.check_words not in item.check_methods
            else ""
        )
    requirements = standard.requirements.all()
    return render(
        request,
        "standards/detail.html",
        {
            "standard": standard,
            "levels": standard.levels.all(),
            "basics": [
                (area, list(rows)) for area, rows in groupby(requirements, key=lambda r: r.area)
            ],
            "categories": [
                (cat, list(rows)) for cat, rows in groupby(items, key=lambda i: i.category)
            ],
            "vetoes": standard.vetoes.select_related("department"),
            "has_bonus": any(i.kind == ItemKind.BONUS for i in items),
            "can_manage": authz.can_manage_standards(request.user, standard.division),
            "versions": Standard.objects.filter(
                slug=standard.slug, pk__in=standards_for_user(request.user)
            ),
        },
    )


@login_required
def standard_import_view(request: HttpRequest) -> HttpResponse:
    city = _managed_city(request.user)
    if city is None:
        raise Http404

    def run(content: bytes, name: str, *, publish: bool) -> str:
        data = (
            formats.read_xlsx(content)
            if name.lower().endswith(".xlsx")
            else formats.from_yaml(content)
        )
        standard, changed = services.standard_import(
            actor=request.user, data=data, division=city, publish=publish
        )
        if not changed:
            return _("%(name)s v%(version)s is already stored exactly so: nothing changed.") % {
                "name": standard.name,
                "version": standard.version,
            }
        return _("%(name)s v%(version)s is imported.") % {
            "name": standard.name,
            "version": standard.version,
        }

    return import_page(
        request,
        title=_("Import a standard"),
        form_class=StandardUploadForm,
        columns="standard, levels, basics, items, vetoes / 标准, 等级, 基本标准, 评分表, 一票否决"
        + " — "
        + _(
            "items may also give kind, step, per_occurrence, floor, na_rule, gate_below, gate_effect; levels passing; vetoes effect; standard step and bonus_cap: the help sheet of an exported workbook explains each"
        ),
        run=run,
        back="standard_list",
    )


@login_required
def standard_export(request: HttpRequest, public_id: Any, fmt: str) -> HttpResponse:
    standard = _standard_or_404(request, public_id)
    data = services.standard_data(standard)
    name = f"{standard.slug}-v{standard.version}"
    if fmt == "yaml":
        response = HttpResponse(
            formats.to_yaml(data), content_type="application/yaml; charset=utf-8"
        )
    elif fmt == "xlsx":
        chinese = wants_chinese_headers(request)
        response = HttpResponse(
            formats.write_xlsx(data, chinese=chinese),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = content_disposition(name, fmt)
    return response


def _act(request: HttpRequest, public_id: Any, action: Any, done: str) -> HttpResponse:
    standard = _standard_or_404(request, public_id)
    if not authz.can_manage_standards(request.user, standard.division):
        raise Http404
    try:
        result = action(actor=request.user, standard=standard)
    except ImportRefused as refused:
        messages.error(request, "; ".join(str(e) for e in refused.errors[:5]))
        return redirect("standard_detail", public_id=standard.public_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("standard_detail", public_id=standard.public_id)
    messages.success(request, done)
    return redirect("standard_detail", public_id=result.public_id)


@require_POST
@login_required
def standard_publish(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _act(
        request,
        public_id,
        services.standard_publish,
        _("Published. This version can no longer change."),
    )


@require_POST
@login_required
def standard_new_draft(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _act(
        request,
        public_id,
        services.standard_new_draft,
        _("A new draft version was made; export it, edit the file and import it."),
    )


@require_POST
@login_required
def standard_retire(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _act(request, public_id, services.standard_retire, _("Retired."))
