"""Writing audit events. Call `record` inside the service's transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from civicmark.core.models import AuditEvent


def record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_ref: str = "",
    scope_path: str = "",
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    via: str = "web",
) -> AuditEvent:
    # An audit event outside a transaction could survive a change that rolled back, or vanish
    # with one that did not: services must open the transaction first.
    assert transaction.get_connection().in_atomic_block, "audit.record needs a transaction"
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type,
        object_ref=str(object_ref)[:64],
        scope_path=scope_path[:255],
        summary=summary[:255],
        before=before,
        after=after,
        via=via,
    )
