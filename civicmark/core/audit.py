"""Writing audit events. Call `record` inside the service's transaction."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Event:
    actor: Any
    action: str
    object_type: str
    object_ref: str = ""
    scope_path: str = ""
    summary: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    via: str = "web"


def record_many(events: list[Event]) -> None:
    """Several events of one change in one insert (a page of scores), same rules as `record`."""
    assert transaction.get_connection().in_atomic_block, "audit.record_many needs a transaction"
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=e.actor if getattr(e.actor, "pk", None) else None,
                action=e.action,
                object_type=e.object_type,
                object_ref=str(e.object_ref)[:64],
                scope_path=e.scope_path[:255],
                summary=e.summary[:255],
                before=e.before,
                after=e.after,
                via=e.via,
            )
            for e in events
        ]
    )
