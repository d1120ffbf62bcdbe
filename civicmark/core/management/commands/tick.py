"""`civicmark tick`: enqueue every periodic job (core.periodic) as a task, for `civicmark worker`.

Run it every few minutes from cron or a systemd timer, or let `civicmark worker --tick SECONDS`
run it. Safe to run twice at once: the jobs are idempotent and no lock is taken (ADR 23).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = "Enqueue every periodic job (reminders, escalation, digests, ...) as a task."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="list the periodic jobs and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.core import periodic, tasks

        if options["list"]:
            for name in sorted(periodic.discover()):
                self.stdout.write(name)
            return
        done = tasks.tick()
        for name, how in done.items():
            self.stdout.write(f"{name}: {how}")
        self.stdout.write(
            f"{sum(how == 'enqueued' for how in done.values())} periodic jobs enqueued"
        )
