"""Past one machine, shown working (issue 19 item 3): the score save through HAProxy with one
application server and with two, sharing PostgreSQL and Redis (sessions and cache), with the CPU
that explains the difference.

Three set-ups, each behind the same HAProxy configuration, each the same load (the real score
save, the same clients and seconds):

- one server with the whole workers budget;
- two servers with half the budget each (the same budget: what splitting costs or gains);
- two servers with the whole budget each (twice the budget: what a second machine would add if
  it brought its own cores; here it brings none).

On this machine the servers, PostgreSQL, Redis, HAProxy and the load generator share two cores,
so a second server cannot double anything: the figure that says why is the CPU per save (every
process group, from /proc) against the cores busy. PostgreSQL only: SQLite is one file on one
machine, which is the very thing a second server leaves behind.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from typing import Any

from civicmark.bench.entry import assessors, real_save, server_env
from civicmark.bench.load import behind_haproxy, emit, run_load

REDIS_DEFAULT = "redis://127.0.0.1:6379/9"  # the bench's own database number


def redis_url() -> str:
    """REDIS_URL from the environment, else a local Redis when one answers, else ""."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return ""
    return REDIS_DEFAULT


def skipped(why: str) -> None:
    emit(figure="one server against two (HAProxy)", skipped=why)


def bench_servers(campaign: Any, clients: int, seconds: float, budget: int) -> None:
    from django.db import connection

    from civicmark.bench.load import HAPROXY

    if connection.vendor != "postgresql":
        return skipped(
            "SQLite: one database file on one machine; several application servers need "
            "PostgreSQL (run with DATABASE_URL=postgres://...)"
        )
    if not os.access(HAPROXY, os.X_OK):
        return skipped(f"{HAPROXY} is missing (apt-get install haproxy)")
    redis = redis_url()
    env = server_env() | ({"REDIS_URL": redis, "CACHE_KEY_PREFIX": "civicmark-bench"})
    if not redis:
        env.pop("REDIS_URL", None)
    who = assessors(campaign, clients)
    users: list[str | None] = list(who.users[:clients])
    found = {}
    for label, servers, workers in [
        ("one server", 1, budget),
        ("two servers, same budget", 2, budget // 2),
        ("two servers, twice the budget", 2, budget),
    ]:
        who.forget()
        with behind_haproxy(servers, workers, env) as base:
            load = run_load(
                base, clients, seconds, real_save(base, campaign.slug, who, clients), users
            )
        spread = Counter(done[2] for done in load["done"])
        cpu = load["cpu_ms"]
        # The ceiling this machine's cores put on the save, whatever the servers: all its
        # cores divided by what one save costs them (every process group's share).
        ceiling = round((os.cpu_count() or 1) * 1000 / cpu["all"], 1) if cpu.get("all") else None
        found[label] = load["rps"]
        emit(
            figure=f"score entry behind HAProxy: {label} ({servers} x {workers} workers, "
            f"{clients} clients, {seconds:.0f} s)",
            servers=servers,
            workers_each=workers,
            workers_total=servers * workers,
            sessions="Redis (cached_db) + PostgreSQL" if redis else "PostgreSQL",
            product_rps=load["rps"],
            p50_ms=load["p50_ms"],
            p99_ms=load["p99_ms"],
            errors=load["errors"],
            error_sample=load["error_sample"],
            saves_by_backend=dict(sorted(spread.items())),
            cpu_ms_per_save=cpu,
            cores=os.cpu_count(),
            cores_busy=load["cores_busy"],
            cpu_ceiling_rps=ceiling,
        )
    one = found["one server"]
    emit(
        figure="one server against two (HAProxy)",
        same_budget_ratio=round(found["two servers, same budget"] / one, 2) if one else None,
        twice_budget_ratio=round(found["two servers, twice the budget"] / one, 2) if one else None,
        budget=f"{budget} gunicorn workers in all (two servers: {budget // 2} each), "
        f"then {budget} each",
    )
