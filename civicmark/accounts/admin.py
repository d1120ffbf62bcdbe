"""People in the admin site: read-only where a service owns the data.

Roles are granted and revoked on the people pages, the import and the command line, through the
one rule in `authz.grant_refusal` and with their audit events; a person's name, where he lives or
works and whether he is active belong to `services.person_update`; people are created with a role
by `services.person_create`. The admin shows all of it and writes none of it: what it still
changes are the flags no service owns (staff, superuser, Django permissions and groups) and the
password, through Django's own form."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from civicmark.accounts.models import RoleAssignment, User


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    can_delete = False
    fields = ("role", "division", "department")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a person is created with his first role, on the people pages

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # his roles would go with him, unaudited: deactivate him instead
