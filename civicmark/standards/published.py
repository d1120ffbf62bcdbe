"""The items of a published standard, kept in the process.

A published version never changes (editing one starts a new draft version, and a campaign pins
its version: ADR 4), so the items an assessor's departments score in it are the same for every
request of every process until the process ends. The score page asks them on every save (issue
19: two statements and ten model rows a save); here they are read once per process and
version, keyed by the version's public id (never reused, unlike a primary key after a rolled-back
test) and the departments. A draft is read every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from civicmark.standards.models import Item, Standard, Status

_KEPT: dict[tuple[Any, frozenset[int]], tuple[Item, ...]] = {}
_KEPT_AT_MOST = 512  # versions x department sets; a full dictionary starts again


def items_scored_by(standard: Standard, departments: Iterable[int]) -> list[Item]:
    """The standard's items that any of `departments` scores (its own department, or one of
    the others it names), in the table's order, with category, department, standard and other
    departments loaded. The items are shared between requests: read them, never change them."""
    wanted = frozenset(departments)
    if standard.status == Status.DRAFT:
        return _query(standard, wanted)
    key = (standard.public_id, wanted)
    found = _KEPT.get(key)
    if found is None:
        if len(_KEPT) >= _KEPT_AT_MOST:
            _KEPT.clear()
        found = _KEPT[key] = tuple(_query(standard, wanted))
    return list(found)


def forget() -> None:
    """Drop every kept answer (tests that change a published standard's items by hand)."""
    _KEPT.clear()


def _query(standard: Standard, departments: frozenset[int]) -> list[Item]:
    # Items named for another of the departments by a subquery, not a join: no DISTINCT over
    # the items' wide rows (issue 19: the save's profile).
    also = Item.other_departments.through.objects.filter(department_id__in=departments)
    return list(
        Item.objects.filter(standard=standard)
        .filter(Q(department_id__in=departments) | Q(pk__in=also.values("item_id")))
        .select_related("category", "department", "standard")
        .prefetch_related("other_departments")
        .order_by("order")
    )
