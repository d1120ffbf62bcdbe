"""Small request helpers shared by the views of several apps."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest


def public_url(request: HttpRequest, path: str) -> str:
    """The address printed on paper (certificates, posters, door cards): the configured public
    site (CIVICMARK_PUBLIC_URL), or the one this request came to."""
    base = getattr(settings, "CIVICMARK_PUBLIC_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def posted_uuid(raw: str | None) -> uuid.UUID:
    """A public id from a form: a malformed one finds nothing (never a server error)."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return uuid.UUID(int=0)
