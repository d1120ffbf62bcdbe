"""One score save profiled, beside the fair baseline, in one process (issue 19 item 2).

    DATABASE_URL=sqlite:////tmp/profile.sqlite3 python -m civicmark.bench.profile_save \
        [--communities 1000] [--saves 60] [--top 25]

Seeds the bench's data in the database DATABASE_URL names (a fresh one: it is migrated and
seeded), signs in one bench assessor with Django's test client and posts the same page the load
test posts (`bench.entry.real_save`: one department's items, one community each time), then the
fair baseline's write (`bench/write/`). It prints the CPU per request of each (process time, the
median of `--saves`), the statements of one save, and a cProfile with a CPU clock of the real
saves: the share of the save's CPU in each part named in docs/performance.md. The same request
before and after a change, so the two profiles compare.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

# The parts of a save, by the function that does each (cumulative CPU share of the saves).
PARTS = {
    "the view's look-ups (_score_items)": "_score_items",
    "the writer (cards_save)": "cards_save",
    "the assessor's scores (_mine)": "_mine",
    "the success message and redirect": "success|redirect",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--saves", type=int, default=60)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", default="", help="also write the raw profile to this file")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicmark.config.settings")
    os.environ.setdefault("CIVICMARK_URLCONF", "civicmark.bench.urls")
    os.environ.setdefault("CIVICMARK_OTP_REQUIRED", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECRET_KEY", "profile-" + "k" * 60)
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("HTTPS", "false")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("sqlite:///"):  # a fresh file each time (PostgreSQL: name a new database)
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite://") + suffix).unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from civicmark.accounts.models import User
    from civicmark.bench.entry import assessors
    from civicmark.bench.seed import seed

    call_command("migrate", verbosity=0)
    # The pages are served as production does (manifest storage), as in the bench's gunicorn.
    call_command("collectstatic", verbosity=0, interactive=False)
    seeded = seed(args.communities, prefix="P")
    who = assessors(seeded.campaign, 1)
    who.forget()
    client = Client()
    client.force_login(User.objects.get(username=who.users[0]))
    items = who.items_of[who.depts[0]]
    slug = seeded.campaign.slug

    def real(n: int) -> Any:
        fields = {}
        for pk, points in items:
            fields[f"i{pk}-points"] = str(points - Decimal("0.5"))
            fields[f"i{pk}-reason"] = f"剖析{n}"
        answer = client.post(f"/campaigns/{slug}/rounds/2/score/{who.codes[n]}/", fields)
        assert answer.status_code == 302, (answer.status_code, answer.content[:300])
        return answer

    def baseline(n: int) -> Any:
        pk, points = items[0]
        answer = client.post(
            "/bench/write/",
            {
                "round": who.baseline_round.pk,
                "enrollment": who.enrollment_of[who.codes[n]],
                "item": pk,
                "points": str(points - Decimal("0.5")),
                "reason": f"剖析{n}",
            },
        )
        assert answer.status_code == 302, answer.status_code
        return answer

    def cpu(step: Any, start: int) -> float:
        spent = []
        for n in range(start, start + args.saves):
            began = time.process_time()
            step(n)
            spent.append(time.process_time() - began)
        return statistics.median(spent) * 1000

    client.get(f"/campaigns/{slug}/rounds/2/score/{who.codes[0]}/")  # warm: language, memo
    real(0)
    baseline(0)
    with CaptureQueriesContext(connection) as queries:
        real(1)
    print(f"database: {connection.vendor}, N = {args.communities}, {len(items)} items a page")
    print(f"statements of one save: {len(queries)}")
    for q in queries.captured_queries:
        print("   ", q["sql"][:110])
    base_ms = cpu(baseline, 2)
    real_ms = cpu(real, 2)
    print(f"CPU per request (median of {args.saves}): real save {real_ms:.2f} ms, ")
    print(f"    baseline write {base_ms:.2f} ms, ratio {real_ms / base_ms:.2f}")
    profiler = cProfile.Profile(time.process_time)
    start = 2 + args.saves
    profiler.enable()
    for n in range(start, start + args.saves):
        real(n)
    profiler.disable()
    stats = pstats.Stats(profiler)
    if args.dump:
        stats.dump_stats(args.dump)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    print(f"\ncProfile (CPU clock) of {args.saves} saves: {total * 1000 / args.saves:.2f} ms each")
    import re

    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for part, pattern in PARTS.items():
        cum = max(
            (v[3] for (_f, _l, name), v in raw.items() if re.fullmatch(pattern, name)),
            default=0.0,
        )
        print(f"  {part:<40} {cum / total:6.1%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
