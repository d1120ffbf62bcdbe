"""Thin views: parse, fetch through the authorization layer, call one service, render."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz
from civicmark.accounts.places import imports, services
from civicmark.accounts.places.forms import (
    DepartmentForm,
    DivisionForm,
    MemberForm,
    ProfileForm,
    WorkingGroupForm,
)
from civicmark.accounts.roles import MANAGER_ROLES
from civicmark.core.errors import ApplicationError
from civicmark.core.names import content_disposition
from civicmark.core.uploads import import_page, wants_chinese_headers
from civicmark.divisions.models import PARENT_LEVEL, CommunityProfile, Division, Level

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _download(name: str, fmt: str, write: object) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404
    buffer = io.BytesIO()
    write(target=buffer, fmt=fmt)  # type: ignore[operator]
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition(f"{name}-{date.today():%Y%m%d}", fmt)
    return response


def _export(request: HttpRequest, name: str, exporter: Any, fmt: str) -> HttpResponse:
    """A download of what the person may see, with headers in his language unless asked."""
    chinese = wants_chinese_headers(request)
    return _download(
        name,
        fmt,
        lambda target, fmt: exporter(user=request.user, target=target, fmt=fmt, chinese=chinese),
    )


@login_required
def division_list(request: HttpRequest) -> HttpResponse:
    qs = authz.divisions_for_user(request.user).select_related("parent", "profile")
    level = request.GET.get("level", "")
    if level in Level.values:
        qs = qs.filter(level=level)
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(name__icontains=query) | qs.filter(code__startswith=query)
    page = Paginator(qs.order_by("path"), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "divisions/list.html",
        {
            "page": page,
            "level": level,
            "q": query,
            "levels": Level.choices,
            "can_import": bool(authz.manage_paths(request.user)) or authz.is_super(request.user),
        },
    )


@login_required
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    division = authz.get_visible_or_404(
        authz.divisions_for_user(request.user).select_related("parent"), request.user, code=code
    )
    profile = CommunityProfile.objects.filter(division=division).first()
    children = (
        authz.divisions_for_user(request.user).filter(parent=division).select_related("profile")
    )
    return render(
        request,
        "divisions/detail.html",
        {
            "division": division,
            "profile": profile,
            "children": children,
            "departments": authz.departments_for_user(request.user).filter(division=division),
            "groups": authz.working_groups_for_user(request.user).filter(division=division),
            "can_edit_profile": authz.can_edit_profile(request.user, division),
            "can_change": authz.can_change_division(request.user, division),
            "parent_visible": division.parent_id is not None
            and authz.divisions_for_user(request.user).filter(pk=division.parent_id).exists(),
        },
    )


@login_required
def profile_edit(request: HttpRequest, code: str) -> HttpResponse:
    division = authz.get_visible_or_404(
        authz.divisions_for_user(request.user), request.user, code=code
    )
    if not authz.can_edit_profile(request.user, division):
        raise Http404
    profile = CommunityProfile.objects.filter(division=division).first() or CommunityProfile(
        division=division
    )
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.profile_update(actor=request.user, community=division, values=form.cleaned_data)
        messages.success(request, _("The profile of %s is saved.") % division.name)
        return redirect("division_detail", code=division.code)
    return render(request, "divisions/profile_form.html", {"division": division, "form": form})


def _parents_for(user: Any, division: Division) -> Any:
    """Where the person may put the division: a division of the level above, in his area."""
    level = PARENT_LEVEL[Level(division.level)]
    if level is None:
        return None
    return Division.objects.filter(authz.manage_scope(user, "path"), level=level).order_by("path")


@login_required
def division_edit(request: HttpRequest, code: str) -> HttpResponse:
    division = authz.get_visible_or_404(
        authz.divisions_for_user(request.user).select_related("parent"), request.user, code=code
    )
    if not authz.can_change_division(request.user, division):
        raise Http404
    initial = {"name": division.name, "parent": division.parent}
    form = DivisionForm(
        request.POST or None, initial=initial, parents=_parents_for(request.user, division)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.division_update(
                actor=request.user,
                division=division,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data.get("parent"),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%s is saved.") % form.cleaned_data["name"])
            return redirect("division_detail", code=division.code)
    return render(request, "divisions/division_form.html", {"division": division, "form": form})


def _summary_text(summary: imports.ImportSummary) -> str:
    return _("Import finished: %(c)d created, %(u)d updated, %(n)d unchanged.") % {
        "c": len(summary.created),
        "u": len(summary.updated),
        "n": summary.unchanged,
    }


@login_required
def division_import(request: HttpRequest) -> HttpResponse:
    if not (authz.manage_paths(request.user) or authz.is_super(request.user)):
        raise Http404
    return import_page(
        request,
        title=_("Import divisions and community profiles"),
        columns=", ".join(c.key for c in imports.DIVISION_COLUMNS)
        + " / "
        + ", ".join(imports.DIVISION_HEADERS_ZH),
        run=lambda data, name: _summary_text(
            imports.divisions_import(actor=request.user, data=data, filename=name)
        ),
        back="division_list",
    )


@login_required
def division_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, "divisions", imports.divisions_export, fmt)


# --- Departments -------------------------------------------------------------------------------


def _department_divisions(user: object):  # type: ignore[no-untyped-def]
    """Divisions whose departments the user may manage (city and counties in his subtree)."""
    qs = authz.divisions_for_user(user).filter(level__in=[Level.CITY, Level.COUNTY])
    return qs.filter(pk__in=[d.pk for d in qs if authz.can_manage_departments(user, d)])


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    departments = authz.departments_for_user(request.user).order_by("division__path", "code")
    # An edit link only where the edit page opens: a county officer sees the city's departments
    # too, but manages only his county's (the links to the city's led to "not found").
    manageable = set(_department_divisions(request.user).values_list("pk", flat=True))
    return render(
        request,
        "divisions/department_list.html",
        {
            "departments": departments,
            "can_manage": bool(manageable),
            "manageable": manageable,
        },
    )


@login_required
def department_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    department = None
    if code is not None:
        department = authz.get_visible_or_404(
            authz.departments_for_user(request.user), request.user, code=code
        )
        if not authz.can_manage_departments(request.user, department.division):
            raise Http404
    divisions = _department_divisions(request.user)
    if department is None and not divisions.exists():
        raise Http404
    initial = (
        {"code": department.code, "name": department.name, "division": department.division}
        if department
        else None
    )
    form = DepartmentForm(
        request.POST or None, initial=initial, divisions=divisions, department=department
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.department_save(
                actor=request.user,
                code=department.code if department else form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                division=form.cleaned_data["division"],
                department=department,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Department saved."))
            return redirect("department_list")
    return render(
        request, "divisions/department_form.html", {"form": form, "department": department}
    )


@login_required
def department_import(request: HttpRequest) -> HttpResponse:
    if not _department_divisions(request.user).exists():
        raise Http404
    return import_page(
        request,
        title=_("Import departments"),
        columns="code, name, division_code / " + ", ".join(imports.DEPARTMENT_HEADERS_ZH),
        run=lambda data, name: _summary_text(
            imports.departments_import(actor=request.user, data=data, filename=name)
        ),
        back="department_list",
    )


@login_required
def department_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, "departments", imports.departments_export, fmt)


# --- Working groups ----------------------------------------------------------------------------


def _group_divisions(user: object):  # type: ignore[no-untyped-def]
    qs = authz.divisions_for_user(user).filter(level__in=[Level.CITY, Level.COUNTY, Level.TOWN])
    return qs.filter(pk__in=[d.pk for d in qs if authz.can_manage_groups(user, d)])


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    groups = authz.working_groups_for_user(request.user).prefetch_related("members")
    can_create = bool(set(authz.roles_of(request.user)) & set(MANAGER_ROLES)) or authz.is_super(
        request.user
    )
    return render(
        request, "divisions/group_list.html", {"groups": groups, "can_create": can_create}
    )


@login_required
def group_create(request: HttpRequest) -> HttpResponse:
    divisions = _group_divisions(request.user)
    if not divisions.exists():
        raise Http404
    form = WorkingGroupForm(request.POST or None, divisions=divisions)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.working_group_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("group_detail", public_id=group.public_id)
    return render(request, "divisions/group_form.html", {"form": form})


def _member_form(request: HttpRequest, data: object = None) -> MemberForm:
    return MemberForm(
        data,
        users=authz.users_for_user(request.user),
        departments=authz.departments_for_user(request.user),
    )


@login_required
def group_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    group = authz.get_visible_or_404(
        authz.working_groups_for_user(request.user), request.user, public_id=public_id
    )
    form = _member_form(request, request.POST or None)
    can_manage = authz.can_manage_groups(request.user, group.division)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.working_group_member_add(
                    actor=request.user, group=group, **form.cleaned_data
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Member added."))
                return redirect("group_detail", public_id=group.public_id)
    members = group.members.select_related("user", "department")
    return render(
        request,
        "divisions/group_detail.html",
        {"group": group, "members": members, "form": form, "can_manage": can_manage},
    )


@require_POST
@login_required
def group_member_remove(request: HttpRequest, public_id: str, member_id: str) -> HttpResponse:
    group = authz.get_visible_or_404(
        authz.working_groups_for_user(request.user), request.user, public_id=public_id
    )
    member = authz.get_visible_or_404(group.members.all(), request.user, public_id=member_id)
    try:
        services.working_group_member_remove(actor=request.user, member=member)
    except ApplicationError:
        raise Http404 from None
    messages.success(request, _("Member removed."))
    return redirect("group_detail", public_id=group.public_id)


@login_required
def name_search(request: HttpRequest) -> HttpResponse:
    """Suggestions for a name-or-code box (civicmark.core.lookup): divisions, departments or
    people the person may read (people: those he may choose, `authz.users_for_user`), matching
    what he typed; a name out of his scope is never offered."""
    from civicmark.core.lookup import PEOPLE, PLACES, suggestions

    field = request.GET.get("field", "q")
    text = request.GET.get(field, "") or request.GET.get("q", "")
    kind = request.GET.get("kind")
    keys = PLACES
    if kind == "department":
        queryset: Any = authz.departments_for_user(request.user)
    elif kind == "person":
        queryset, keys = authz.users_for_user(request.user).filter(is_active=True), PEOPLE
    else:
        queryset = authz.divisions_for_user(request.user)
        level = request.GET.get("level", "")
        if level in Level.values:
            queryset = queryset.filter(level=level)
    return render(
        request,
        "core/name_suggestions.html",
        {"found": suggestions(queryset, text[:100], keys)},
    )
