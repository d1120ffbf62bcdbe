from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from civicmark.accounts.models import RoleAssignment, User


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("CivicMark", {"fields": ("full_name", "home_division")}),
    )  # type: ignore[misc]
    list_display = ["username", "full_name", "is_active", "is_superuser"]
    inlines = [RoleInline]
