"""The operator's window on what was sent (read-only, ADR 28): each delivery with its attempts,
their answers and the next try."""

from __future__ import annotations

from django.contrib import admin

from civicmark.core.admin import ReadOnlyAdmin, ReadOnlyInline
from civicmark.notifications.models import Delivery, DeliveryAttempt, Notification


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("number", "at", "ok", "status_code", "error", "next_try_at")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "recipient",
        "channel",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["channel", "status"]
    search_fields = ["recipient__username", "recipient__full_name", "subject", "public_id"]
    readonly_fields = ["public_id", "key"]
    exclude = ["notifications"]
    inlines = [AttemptInline]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "event", "title", "read_at"]
    list_filter = ["event"]
    search_fields = ["recipient__username", "recipient__full_name", "title"]
