"""The admin site is a window on the data, not a way around the services.

Every write that matters is one service with its audit event in the same transaction (its checks,
its derived fields such as a division's path, its before and after). A model admin that saved rows
itself would skip all of that, so ours are read-only (`ReadOnlyAdmin`) unless the admin routes
its change through the owning service (see the level names in civicmark/divisions/admin.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicmark.core.models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows, never adds, changes or deletes them (nor through bulk actions)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    # The trail is append-only, in the admin too.
    list_display = ["at", "actor", "via", "action", "object_ref", "summary"]
    list_filter = ["action", "via"]
