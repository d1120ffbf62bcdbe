"""`civicmark seed-scale --communities N`: a synthetic province for benchmarks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Build a synthetic province of N communities, scored, for benchmarks (bulk inserts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--communities", type=int, required=True)
        parser.add_argument("--prefix", default="P", help="code prefix (one province per prefix)")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, communities: int, prefix: str, seed: int, **options: Any) -> None:
        from django.core.management import CommandError

        from civicmark.bench.seed import seed as build
        from civicmark.divisions.models import Division

        if communities < 1:
            raise CommandError("--communities must be at least 1.")
        if not prefix.isalnum() or Division.objects.filter(code=f"{prefix}00").exists():
            raise CommandError(f"A province with prefix {prefix!r} exists already; choose another.")
        done = build(communities, prefix=prefix, seed=seed)
        self.stdout.write(
            f"seeded {done.communities} communities, {done.scores} scores, campaign "
            f"{done.campaign.slug}, in {done.seconds:.1f} s"
            + "".join(f"\n  {part}: {s:.1f} s" for part, s in done.parts.items())
        )
