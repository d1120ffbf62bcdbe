"""`civicmark jobs work`: run queued exports (CIVICMARK_JOBS=worker), on any number of machines.

civicmark jobs work            claim and run jobs until stopped (SIGTERM or Ctrl-C ends it
                               between jobs, never in the middle of one)
civicmark jobs work --once     run what is queued now, then stop (for cron or a test)
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.db import close_old_connections, connection

from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = "Run the queued long exports (CIVICMARK_JOBS=worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("task", choices=["work"])
        parser.add_argument("--once", action="store_true", help="stop when the queue is empty")
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks")

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.results import jobs

        stopping = False

        def stop(_signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        if not options["once"]:
            signal.signal(signal.SIGTERM, stop)
        done = 0
        while not stopping:
            if not connection.in_atomic_block:  # (a test runs the loop inside one)
                close_old_connections()  # a long-lived worker must not keep a dead connection
            pk = jobs.claim()
            if pk is None:
                if options["once"]:
                    break
                try:
                    time.sleep(options["poll"])
                except KeyboardInterrupt:
                    break
                continue
            jobs.run(pk)
            done += 1
        self.stdout.write(f"{done} jobs run")
