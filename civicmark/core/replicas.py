"""Reads that may come from a read replica, and the router that sends them there (ADR 27).

A replica is configured by `DATABASE_REPLICA_URL` (the alias `replica`, named by the setting
CIVICMARK_READ_REPLICA). Nothing goes to it unless the code asks, for one request or one job:
`@replica_reads` on a view, or `with replica_reads():` around a job's reading. Inside that scope
the router sends ORM reads to the replica, except

- every write, always, and every read once the scope has written (the person who just downloaded
  a report reads what he wrote: a replica lags by a moment);
- every read inside a transaction on the primary (`transaction.atomic()`): a write's own reads
  (locks, checks, a stale result recomputed) must see the primary;
- code that says it needs the primary (`with primary():`), such as the check whether stored
  results are current, whose answer a replica's lag would bend.

Without a replica configured, or outside the scope, the router has no opinion and Django uses
`default`. The scope is a context variable, so each thread (and each request) has its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar, overload

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Scope:
    replica: bool  # False inside `primary()`
    wrote: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("civicmark_replica_scope", default=None)


def replica_alias() -> str:
    """The alias reads may go to, or "" when no replica is configured."""
    alias = getattr(settings, "CIVICMARK_READ_REPLICA", "")
    return alias if alias and alias in settings.DATABASES else ""


class _ReplicaReads:
    """`with replica_reads():` or `@replica_reads` on a view or function."""

    def __enter__(self) -> None:
        self._token = _scope.set(_Scope(replica=True))

    def __exit__(self, *exc: object) -> None:
        _scope.reset(self._token)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        @wraps(fn)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            with _ReplicaReads():
                return fn(*args, **kwargs)

        return wrapped


@overload
def replica_reads(fn: Callable[P, R]) -> Callable[P, R]: ...
@overload
def replica_reads(fn: None = None) -> _ReplicaReads: ...
def replica_reads(fn: Callable[P, R] | None = None) -> Callable[P, R] | _ReplicaReads:
    """Reads in this scope may come from the replica (see the module's docstring)."""
    reads = _ReplicaReads()
    return reads if fn is None else reads(fn)


@contextmanager
def primary() -> Iterator[None]:
    """Reads in this block go to the primary, whatever the scope around it."""
    token = _scope.set(_Scope(replica=False))
    try:
        yield
    finally:
        _scope.reset(token)


def reading_connection(model: type[Model]) -> BaseDatabaseWrapper:
    """The connection a hand-written read of `model`'s tables goes through (the ORM's reads
    are routed; a raw cursor asks here)."""
    return connections[router.db_for_read(model) or DEFAULT_DB_ALIAS]


class ReplicaRouter:
    """Settings' DATABASE_ROUTERS. Returns None (Django's default) whenever it has no reason to
    send a read to the replica."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        scope = _scope.get()
        alias = replica_alias()
        if scope is None or not alias:
            return None
        if not scope.replica or scope.wrote or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read there may point at one read here.
        dbs = {obj1._state.db, obj2._state.db}
        return True if dbs <= {DEFAULT_DB_ALIAS, replica_alias()} else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A replica follows the primary's schema by replication; nothing migrates it.
        return False if db != DEFAULT_DB_ALIAS and db == replica_alias() else None
