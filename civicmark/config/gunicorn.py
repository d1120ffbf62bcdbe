"""gunicorn's settings for CivicMark: `gunicorn -c python:civicmark.config.gunicorn --workers N`.

Each worker parses the PDF font (the whole Noto Sans SC: seconds of CPU, ADR 6) once as it
starts, before it takes a request, instead of inside the first request that prints a report or a
certificate. Only a serving process reads this file: tests and management commands never parse
the font unless they print.

With CIVICMARK_EMBEDDED_WORKER=1 (set by `civicmark demo`) the master also starts one
`civicmark worker --tick 60` process beside its workers and stops it when it stops, so one
command serves the demo with its exports and periodic jobs running (ADR 23). Production runs the
worker as a service of its own (README)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

wsgi_app = "civicmark.config.wsgi:application"


def post_worker_init(worker: Any) -> None:
    # Imported here, not above: gunicorn's master reads this file before Django is set up, and
    # only the worker (which has loaded the application by now) needs the font.
    from civicmark.results.pdf import load_fonts

    # A worker that says nothing for `timeout` seconds while booting is killed: on a loaded
    # machine the font takes a good part of that, so it reports after each step.
    load_fonts(progress=worker.notify)
    worker.log.info("PDF fonts loaded (worker %s)", worker.pid)


_embedded: list[subprocess.Popen[bytes]] = []


def when_ready(server: Any) -> None:
    if os.environ.get("CIVICMARK_EMBEDDED_WORKER") != "1":
        return
    command = [sys.executable, "-m", "civicmark", "worker", "--tick", "60"]
    _embedded.append(subprocess.Popen(command))  # noqa: S603 - our own command, no shell
    server.log.info("task worker started beside gunicorn (pid %s)", _embedded[-1].pid)


def on_exit(server: Any) -> None:
    for process in _embedded:
        process.terminate()  # the worker ends after the task it is running
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
