"""`make bench`: the benchmark suite on SQLite and, when DATABASE_URL names PostgreSQL, on
PostgreSQL too; each in a fresh database, each figure printed with its baseline and ratio.
Never part of `make test`.

    python -m civicmark.bench [--communities 10000] [--only results,pages,...] [suite options]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench"


def fresh_postgres(url: str) -> str:
    """A new database beside the one DATABASE_URL names, called after it (`<name>_bench`): two
    people benchmarking on one server each name their own and never drop the other's."""
    import psycopg

    base, _, db = url.rpartition("/")
    name = f"{db.split('?')[0] or 'civicmark'}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def run(label: str, database_url: str, args: list[str]) -> list[dict[str, Any]]:
    print(f"\n== {label} ==", flush=True)
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "k" * 60,
        # The benchmark's city officers sign in without a second factor (development only).
        "CIVICMARK_OTP_REQUIRED": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "MEDIA_ROOT": str(OUT / "media"),
    }
    figures = []
    with subprocess.Popen(
        [sys.executable, "-m", "civicmark.bench.suite", "--workdir", str(OUT), *args],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                figure = json.loads(line)
            except ValueError:
                print(line, end="")
                continue
            figures.append(figure)
            print(describe(figure), flush=True)
    if process.returncode:
        raise SystemExit(f"{label}: the suite failed ({process.returncode})")
    (OUT / f"results-{label}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return figures


def describe(f: dict[str, Any]) -> str:
    name = f.get("figure", "")
    rest = {k: v for k, v in f.items() if k not in ("figure", "done")}
    if "product_s" in rest and "baseline_s" in rest:
        return (
            f"  {name:<44} {rest['product_s']:>8.3f} s   vs {rest['baseline']}: "
            f"{rest['baseline_s']:.3f} s   ratio {rest.get('ratio')}   "
            + " ".join(
                f"{k}={v}"
                for k, v in rest.items()
                if k not in ("product_s", "baseline_s", "baseline", "ratio")
            )
        )
    bars = rest.pop("bars", None)
    line = f"  {name:<44} " + " ".join(f"{k}={v}" for k, v in rest.items())
    if isinstance(bars, dict):
        line += "".join(f"\n      bar: {bar:<36} {verdict}" for bar, verdict in bars.items())
    return line


def main() -> None:
    args = sys.argv[1:]
    # --no-sqlite: PostgreSQL alone (a run at 110,000 communities, where SQLite is not the
    # database anyone would use).
    sqlite_too = "--no-sqlite" not in args
    args = [a for a in args if a != "--no-sqlite"]
    OUT.mkdir(parents=True, exist_ok=True)
    if (OUT / "media").exists():
        shutil.rmtree(OUT / "media")
    sqlite = OUT / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
    if sqlite_too:
        run("sqlite", f"sqlite:///{sqlite}", args)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        run("postgresql", fresh_postgres(url), args)
    else:
        print("\n(DATABASE_URL does not name PostgreSQL: the PostgreSQL run is skipped)")


if __name__ == "__main__":
    main()
