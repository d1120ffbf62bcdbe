"""The seal's lock, so that "signed off" holds under concurrency as well as in sequence.

A writer of what a round judges (a score, a veto finding, signed figures) reads the seal inside
its transaction (`panels.round_sealed_for`). On PostgreSQL, read committed, that alone leaves a
gap: a sign-off could commit between the writer's read and the writer's commit. So writers take
the round's advisory lock shared (they never wait for one another) and a sign-off takes it
exclusively: the sign-off waits for the writes already under way, and a write that starts during
a sign-off waits for it and then sees the seal. SQLite runs one write transaction at a time,
which gives the same order without a lock.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

NAMESPACE = 0x5EA1  # the first key of every round's lock; the second is the round's id


def _key(round_: Any) -> tuple[int, int]:
    return NAMESPACE, round_.pk & 0x7FFFFFFF


def hold_for_writing(round_: Any) -> None:
    """Inside a writer's transaction, before it reads the seal."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", _key(round_))


def hold_for_sign_off(round_: Any) -> None:
    """Inside a sign-off's transaction, before it sets the seal."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _key(round_))
