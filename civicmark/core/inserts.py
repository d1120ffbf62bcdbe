"""Many rows of one model in one `executemany`, for the writes that bulk_create made slow.

`bulk_create` builds a model instance per row and compiles every value of every row through the
SQL compiler; for a score sheet of 10,000 rows (each with its audit event) that cost more than
parsing the workbook (ADR 17). Here each row is a tuple of attribute values; a value goes through
its field's `get_db_prep_save` only where the database needs a conversion (UUID, decimal, time,
JSON), so the stored row is the one `save()` would store, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models, transaction

# Field types whose Python value the database adapter cannot take as it is; the others (keys,
# integers, booleans, text, None) pass unchanged.
_CONVERTED = (models.UUIDField, models.DecimalField, models.DateTimeField, models.JSONField)
# Bound values per statement of a many-row insert with RETURNING: under SQLite's 32,766 (since
# 3.32) and PostgreSQL's 65,535.
_RETURNING_VALUES = 32000


def insert_rows(
    model: type[models.Model],
    attnames: Sequence[str],
    rows: Iterable[Sequence[Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]] | None:
    """Insert `rows`, each holding the values of `attnames` in that order (every column but the
    primary key: a column left out fails here, not silently with its database default).

    With `returning` (attnames, the primary key among them), the inserted rows' values of those
    columns, in no promised order, where the database returns rows from a many-row insert
    (PostgreSQL, SQLite 3.35+: `INSERT ... VALUES (...), (...) RETURNING`, one statement per
    `_RETURNING_VALUES` bound values instead of one executemany); None where it cannot, and the caller
    reads them back."""
    connection = transaction.get_connection()
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in attnames]
    missing = {f.attname for f in meta.concrete_fields if not f.primary_key} - set(attnames)
    assert not missing, f"insert_rows({meta.label}) is given no value for {sorted(missing)}"
    converted = [(n, f) for n, f in enumerate(fields) if isinstance(f, _CONVERTED)]
    prepared = []
    # A value every row shares (the change's time) is converted once: the last value seen in
    # each column and its conversion.
    last: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        values = list(row)
        for n, field in converted:
            seen = last.get(n)
            if seen is not None and seen[0] is values[n]:
                values[n] = seen[1]
                continue
            raw = values[n]
            values[n] = field.get_db_prep_save(raw, connection)
            last[n] = (raw, values[n])
        prepared.append(values)
    if not prepared:
        return [] if returning else None
    quote = connection.ops.quote_name
    # Table and column names come from the model, never from input.
    head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608
        quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    )
    one = "({})".format(", ".join(["%s"] * len(fields)))
    if returning and connection.features.can_return_rows_from_bulk_insert:
        back = " RETURNING " + ", ".join(quote(by_attname[name].column) for name in returning)
        found: list[tuple[Any, ...]] = []
        size = max(1, _RETURNING_VALUES // len(fields))
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), size):
                batch = prepared[start : start + size]
                cursor.execute(
                    head + ", ".join([one] * len(batch)) + back,
                    [value for values in batch for value in values],
                )
                found.extend(tuple(row) for row in cursor.fetchall())
        return found
    with connection.cursor() as cursor:
        cursor.executemany(head + one, prepared)
    return None
