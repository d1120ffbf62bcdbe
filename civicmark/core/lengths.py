"""Text never stored past its column: SQLite ignores a VARCHAR's length, PostgreSQL refuses it.

A 5,000-character community name was stored on SQLite (and its PDF then failed); the same
write on PostgreSQL was a DataError, an HTTP 500. Forms already refuse text past `max_length`;
this guard refuses it for every other writer (services called from hand-read pages, imports,
commands) before the row is saved, with a sentence naming the field and the limit, inside the
service's transaction, so that nothing of the refused write stays.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError


class TextTooLong(ApplicationError):
    code = "text_too_long"


def refuse_text_past_its_column(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    """pre_save: every text field of the row fits its max_length."""
    for field in sender._meta.concrete_fields:
        if not isinstance(field, models.CharField) or not field.max_length:
            continue
        value = getattr(instance, field.attname, None)
        if isinstance(value, str) and len(value) > field.max_length:
            raise TextTooLong(
                _("“%(field)s” has %(length)d characters; at most %(limit)d are allowed.")
                % {"field": field.verbose_name, "length": len(value), "limit": field.max_length}
            )
