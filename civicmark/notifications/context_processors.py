"""The unread count beside the to-do on every page (ADR 28)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from civicmark.notifications.selectors import unread_count


class Inbox:
    """Counted only when a template asks (`inbox.unread`), once per request: a page that does not
    show the header (an htmx fragment, a file) costs no query."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        return unread_count(user=self.user)


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": Inbox(user)}
