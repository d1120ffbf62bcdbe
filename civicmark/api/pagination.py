"""Cursor pagination (ADR 24): a list is read in a stable order on unique keys, and the cursor is
the last row's keys, signed (opaque to the client, refused if altered). Rows added or removed
between pages neither repeat nor shift the others, as an offset would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import create_model

from civicmark.api.errors import ApiError

SALT = "civicmark.api.cursor"
M = TypeVar("M", bound=Model)


class PageQuery(Schema):
    # Signed keys in base64: short and ASCII (a long one would pass a proxy's request line).
    cursor: str | None = Field(
        None, max_length=400, pattern=r"^[A-Za-z0-9_:.\-]+$", description="From `next_cursor`."
    )
    limit: int = Field(50, ge=1, le=settings.CIVICMARK_API_PAGE_MAX)


def page_of(schema: type[Schema]) -> type[Schema]:
    """`{"items": [...], "next_cursor": "..." | null}` for a row schema."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{schema.__name__.removesuffix('Out')}Page",
        __base__=Schema,
        items=(list[schema], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, None),
    )


def _after(order: Sequence[tuple[str, bool]], values: list[Any]) -> Q:
    """Rows strictly after `values` in `order` ((field, descending) pairs): keyset paging."""
    query = Q(pk__in=[])
    for n, (name, descending) in enumerate(order):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[n]})
        for i in range(n):
            step &= Q(**{order[i][0]: values[i]})
        query |= step
    return query


def _plain(value: Any) -> Any:
    """A key as the signed JSON of a cursor holds it: a decimal or a UUID (the lists ordered by
    public id: standards, rectifications) as its text, which the filter reads back."""
    return str(value) if isinstance(value, Decimal | UUID) else value


def _salt(rows: QuerySet[Any], order: Sequence[tuple[str, bool]]) -> str:
    """A cursor is good for the list that gave it only: signed for its model and its keys, so a
    cursor of another list (whose keys another field could not read: a community's code as a
    round's number) is refused as altered, never a server error."""
    keys = ",".join(f"{'-' if d else ''}{n}" for n, d in order)
    return f"{SALT}:{rows.model._meta.label_lower}:{keys}"


def paginate(
    rows: QuerySet[Any],
    page: PageQuery,
    order: Sequence[tuple[str, bool]],
    out: Callable[[Any], Any] | None = None,
    *,
    out_all: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of `rows` in `order` (its last key unique), each row turned by `out`, or the
    page's rows all at once by `out_all` (what reads something once for the whole page)."""
    salt = _salt(rows, order)
    if page.cursor:
        try:
            values = signing.loads(page.cursor, salt=salt)
        except signing.BadSignature:
            raise ApiError(
                "invalid", _("That cursor is not one this API gave."), field="cursor"
            ) from None
        if not isinstance(values, list) or len(values) != len(order):
            raise ApiError("invalid", _("That cursor is not one this API gave."), field="cursor")
        rows = rows.filter(_after(order, values))
    ordered = rows.order_by(*[f"-{n}" if d else n for n, d in order])
    found = list(ordered[: page.limit + 1])
    more = len(found) > page.limit
    found = found[: page.limit]
    cursor = None
    if more and found:
        last = found[-1]
        keys = [
            _plain(last[name] if isinstance(last, dict) else _attr(last, name))
            for name, _d in order
        ]
        cursor = signing.dumps(keys, salt=salt, compress=True)
    if out_all is not None:
        items = out_all(found)
    elif out is not None:
        items = [out(r) for r in found]
    else:
        raise TypeError("paginate needs `out` or `out_all`")
    return {"items": items, "next_cursor": cursor}


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj
