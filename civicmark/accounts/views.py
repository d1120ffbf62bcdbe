from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicmark.accounts import authz, services
from civicmark.accounts.forms import PersonEditForm, PersonForm, RoleForm
from civicmark.accounts.models import User
from civicmark.core.errors import ApplicationError
from civicmark.core.uploads import import_page


def _require_manager(request: HttpRequest) -> None:
    if not authz.can_manage_people(request.user):
        raise Http404


def _person_or_404(request: HttpRequest, public_id: str) -> User:
    return authz.get_visible_or_404(
        authz.users_for_user(request.user), request.user, public_id=public_id
    )


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    qs = authz.users_for_user(request.user).prefetch_related("roles__division", "roles__department")
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(username__icontains=query) | qs.filter(full_name__icontains=query)
    page = Paginator(qs.order_by("username"), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/person_list.html", {"page": page, "q": query})


def _role_choices(request: HttpRequest) -> dict:
    return {
        "roles": authz.grantable_roles(request.user),
        "divisions": authz.divisions_for_user(request.user),
        "departments": authz.departments_for_user(request.user),
    }


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = PersonForm(request.POST or None, **_role_choices(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.person_create(
                actor=request.user,
                username=data["username"],
                full_name=data["full_name"],
                role=data["role"],
                division=data["division"],
                department=data["department"],
                home_division=data["home_division"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return render(
                request,
                "accounts/person_link.html",
                {
                    "person": user,
                    "link": services.password_link(user, base=request.build_absolute_uri("/")),
                },
            )
    return render(request, "accounts/person_form.html", {"form": form})


@login_required
def person_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    person = _person_or_404(request, public_id)
    can_manage = authz.can_manage_user(request.user, person)
    edit_form = PersonEditForm(
        request.POST or None,
        divisions=authz.divisions_for_user(request.user),
        initial={
            "full_name": person.full_name,
            "home_division": person.home_division,
            "is_active": person.is_active,
        },
    )
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if edit_form.is_valid():
            services.person_update(actor=request.user, user=person, **edit_form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("person_detail", public_id=person.public_id)
    return render(
        request,
        "accounts/person_detail.html",
        {
            "person": person,
            "can_manage": can_manage,
            "edit_form": edit_form,
            "roles": person.roles.select_related("division", "department"),
            "role_form": RoleForm(**_role_choices(request)),
        },
    )


@require_POST
@login_required
def role_grant(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    person = _person_or_404(request, public_id)
    form = RoleForm(request.POST, **_role_choices(request))
    if form.is_valid():
        try:
            services.role_grant(actor=request.user, user=person, **form.cleaned_data)
            messages.success(request, _("Role granted."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        # What is wrong, in the field's own words ("“Town” names several: ..."), not a guess.
        problems = [str(m) for errors in form.errors.values() for m in errors]
        messages.error(request, " ".join(problems) or _("Choose a role and a division."))
    return redirect("person_detail", public_id=person.public_id)


@require_POST
@login_required
def role_revoke(request: HttpRequest, public_id: str, role_id: str) -> HttpResponse:
    _require_manager(request)
    person = _person_or_404(request, public_id)
    assignment = authz.get_visible_or_404(
        authz.role_assignments_for_user(request.user).filter(user=person),
        request.user,
        public_id=role_id,
    )
    try:
        services.role_revoke(actor=request.user, assignment=assignment)
        messages.success(request, _("Role revoked."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("person_detail", public_id=person.public_id)


@require_POST
@login_required
def person_link(request: HttpRequest, public_id: str) -> HttpResponse:
    _require_manager(request)
    person = _person_or_404(request, public_id)
    try:
        link = services.password_link_issue(actor=request.user, user=person)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("person_detail", public_id=person.public_id)
    link = request.build_absolute_uri(link[link.index("/accounts/") :])
    return render(request, "accounts/person_link.html", {"person": person, "link": link})


@login_required
def person_import(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    created: list = []

    def run(data: bytes, name: str) -> str:
        result = services.users_import(actor=request.user, data=data, filename=name)
        created.extend(result.created)
        return _("Import finished: %(c)d people created, %(g)d roles granted, %(n)d unchanged.") % {
            "c": len(result.created),
            "g": len(result.granted),
            "n": result.unchanged,
        }

    response = import_page(
        request,
        title=_("Import people"),
        columns="username, name, role, division_code, department_code / 用户名, 姓名, 角色, 区划代码, 部门代码",
        run=run,
        back="person_list",
    )
    if created:
        # The links are shown once, here; they are never stored or mailed.
        base = request.build_absolute_uri("/").rstrip("/")
        links = [(u, base + link[link.index("/accounts/") :]) for u, link in created]
        return render(request, "accounts/import_links.html", {"links": links})
    return response


class SetPasswordView(auth_views.PasswordResetConfirmView):
    template_name = "registration/set_password.html"
    success_url = reverse_lazy("set_password_done")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            services.password_link_used(user=form.user)
        return response
