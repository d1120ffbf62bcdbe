"""Divisions in the admin: read-only, because each write belongs to a service (registered
through accounts/admin.py: the tree's services live here, in accounts.places).

A division is renamed or moved by `services.division_update` (which recomputes the paths below
it: the admin's own save kept the old path, so a moved town stayed in its old county's sight);
profiles, departments and working groups have their services and pages too. The level names
have no page: the admin sets them, through `services.level_label_save` and its event.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from civicmark.accounts.places import services
from civicmark.core.admin import ReadOnlyAdmin, ReadOnlyInline
from civicmark.core.errors import ApplicationError
from civicmark.divisions import models


@admin.register(models.Division)
class DivisionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(models.CommunityProfile)
class CommunityProfileAdmin(ReadOnlyAdmin):
    list_display = ["division", "households", "residents", "is_pilot"]
    search_fields = ["division__code", "division__name"]


@admin.register(models.Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "division"]


class MemberInline(ReadOnlyInline):
    model = models.WorkingGroupMember


@admin.register(models.WorkingGroup)
class WorkingGroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "division"]
    inlines = [MemberInline]


@admin.register(models.LevelLabel)
class LevelLabelAdmin(admin.ModelAdmin):
    """One row per level (a migration makes them): renamed through the service, which checks
    and records; never added or deleted here."""

    list_display = ["level", "name_zh", "name_en"]
    readonly_fields = ["level"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            saved = services.level_label_save(
                actor=request.user,
                level=obj.level,
                name_zh=obj.name_zh,
                name_en=obj.name_en,
                via="admin",
            )
        except ApplicationError as exc:
            # Refused by the service: say so; the admin's own save never runs.
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk
