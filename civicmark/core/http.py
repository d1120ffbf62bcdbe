"""Small request helpers shared by the views of several apps."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.http import HttpRequest


def public_url(request: HttpRequest, path: str) -> str:
    """The address printed on paper (certificates, posters, door cards): the configured public
    site (CIVICMARK_PUBLIC_URL), or the one this request came to."""
    base = getattr(settings, "CIVICMARK_PUBLIC_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def typed_codes(text: str) -> list[str]:
    """Codes typed in a text box, in order and once each: separated by spaces, lines, commas
    or the Chinese list marks (，、；)."""
    return list(dict.fromkeys(c for c in re.split(r"[\s,，、;；]+", text) if c))


def posted_uuid(raw: str | None) -> uuid.UUID:
    """A public id from a form: a malformed one finds nothing (never a server error)."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return uuid.UUID(int=0)
