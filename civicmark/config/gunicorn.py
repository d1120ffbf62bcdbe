"""gunicorn's settings for CivicMark: `gunicorn -c python:civicmark.config.gunicorn --workers N`.

Each worker parses the PDF font (the whole Noto Sans SC: seconds of CPU, ADR 6) once as it
starts, before it takes a request, instead of inside the first request that prints a report or a
certificate. Only a serving process reads this file: tests and management commands never parse
the font unless they print."""

from __future__ import annotations

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
