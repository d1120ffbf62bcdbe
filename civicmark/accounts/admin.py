"""People in the admin site: read-only where a service owns the data.

Roles are granted and revoked on the people pages, the import and the command line, through the
one rule in `authz.grant_refusal` and with their audit events; a person's name, where he lives or
works and whether he is active belong to `services.person_update`; people are created with a role
by `services.person_create`. The admin shows all of it and writes none of it. What it still
changes: the staff and superuser flags, Django groups and permissions, through
`services.person_privileges_set` and its audit event; names and e-mail (no service owns them).
A password is never set here: it comes through the one-time link, whose issue and use are
audited."""

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as BaseTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicmark.accounts import services
from civicmark.accounts.models import RoleAssignment, User
from civicmark.accounts.places import admin as places_admin  # noqa: F401 - registers the tree
from civicmark.core.admin import ReadOnlyAdmin, ReadOnlyInline


class RoleInline(ReadOnlyInline):
    model = RoleAssignment
    fields = ("role", "division", "department")
    readonly_fields = fields


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("CivicMark", {"fields": ("full_name", "home_division")}),
    )  # type: ignore[misc]
    readonly_fields = [
        "username",
        "full_name",
        "home_division",
        "is_active",
        "last_login",
        "date_joined",
    ]
    list_display = ["username", "full_name", "is_active", "is_superuser"]
    inlines = [RoleInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Only what no service owns is saved here (the names and e-mail of Django's form); the
        # flags and permissions go through their service, with its audit event, once the form's
        # groups and permissions are known (save_related).
        fields = [f for f in ("first_name", "last_name", "email") if f in form.changed_data]
        if fields:
            obj.save(update_fields=fields)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        data = form.cleaned_data
        services.person_privileges_set(
            actor=request.user,
            user=form.instance,
            is_staff=data["is_staff"],
            is_superuser=data["is_superuser"],
            groups=list(data["groups"]),
            permissions=list(data["user_permissions"]),
        )
        for formset in formsets:  # the role inline is read-only: this writes nothing
            self.save_formset(request, form, formset, change=change)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a person is created with his first role, on the people pages

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # his roles would go with him, unaudited: deactivate him instead

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        # Whoever sets a person's password here signs in as him, with no trace: a new password
        # comes through the one-time link (its issue and its use are audit events).
        raise PermissionDenied


# Django's groups carry permissions (revealing ID numbers, seeing sensitive flags): a group
# changed here would hand them to every member with no event. Second-factor devices belong to
# the enrolment page and `civicmark totp --reset`, which audit them. The sign-in throttle's
# records are the trail of wrong passwords: deleting one erased it and unlocked the account
# (`civicmark axes_reset_username` unlocks one on the server). All of them are read-only here.
for _model, _base in (
    (Group, BaseGroupAdmin),
    (TOTPDevice, BaseTOTPDeviceAdmin),
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(f"ReadOnly{_model.__name__}Admin", (ReadOnlyAdmin, _base), {}))
