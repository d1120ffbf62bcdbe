"""The PDF font is parsed when a server's worker starts, not in a person's first request
(issue 16): parsing the whole Noto Sans SC takes seconds, which the first person to print a
certificate after each restart used to wait for. A command that never prints never parses it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "k" * 30 + "-a-secret-for-the-font-loading-tests-only"


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="civicmark.config.settings",
        SECRET_KEY=KEY,
        CIVICMARK_HOME=str(home),
    )
    return env


def test_it_loads_the_font_in_each_gunicorn_worker_before_its_first_request(tmp_path):
    """gunicorn started as the README and `civicmark demo` start it: each worker logs that it
    has loaded the fonts before it serves anything."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(  # noqa: S603
        [gunicorn, "-c", "python:civicmark.config.gunicorn", "-b", "127.0.0.1:0", "-w", "2"],
        env=environment(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        # Waiting for the workers' lines (a limit against hanging, not a timed assertion).
        for _ in range(600):
            if log.read_text().count("PDF fonts loaded") == 2 or server.poll() is not None:
                break
            time.sleep(0.2)
        text = log.read_text()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert text.count("PDF fonts loaded") == 2, text
    assert "Traceback" not in text, text


def test_it_does_not_parse_the_font_for_a_command_that_never_prints(tmp_path):
    """Django set up, every URL and view imported (the check command does), the PDF module
    imported: the font is still unread."""
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.core.management import call_command
        call_command("check", verbosity=0)
        from civicmark.results import pdf
        print("before", pdf.fonts_loaded())
        pdf.load_fonts()
        print("after", pdf.fonts_loaded())
        """
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env=environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if line.startswith(("before", "after"))]
    assert said == ["before False", "after True"]


def test_it_tells_gunicorn_the_booting_worker_is_alive_while_it_loads_the_font():
    """gunicorn kills a booting worker silent for `timeout` seconds, and on a loaded machine the
    font takes a good part of that: the worker reports after each step."""
    from civicmark.config.gunicorn import post_worker_init
    from civicmark.results import pdf

    class Worker:
        pid = 1
        notified = 0

        def notify(self) -> None:
            self.notified += 1
            assert pdf._parsed_face.cache_info().currsize >= 1  # after a step, not before

        class log:  # noqa: N801 - gunicorn's worker.log
            @staticmethod
            def info(*args: object) -> None:
                pass

    worker = Worker()
    post_worker_init(worker)
    assert worker.notified == 4 and pdf.fonts_loaded()
