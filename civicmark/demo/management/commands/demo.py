from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command

from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = "Load the demo city (idempotently) and serve it with gunicorn on 127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="load the demo city and stop")
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--no-task-worker",
            action="store_true",
            help="do not start `civicmark worker` beside gunicorn (one runs elsewhere)",
        )

    def _command_line_hint(self) -> None:
        """Where the `civicmark` command is, for a newcomer whose shell cannot find it."""
        here = os.path.dirname(sys.executable)
        if shutil.which("civicmark") != os.path.join(here, "civicmark"):
            self.stdout.write(
                f"The civicmark command is in {here}: `. {here}/activate` puts it on the PATH; "
                "it reads var/env (written by make demo) when started in this directory."
            )

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.demo.loader import demo_totp_secrets, load_demo

        call_command("migrate", verbosity=0, interactive=False)
        accounts = load_demo()
        url = f"http://{options['bind']}/"
        self.stdout.write(self.style.SUCCESS("The demo city 清源市 / 安平县 is loaded."))
        self.stdout.write(f"Open {url} and sign in as one of:")
        secrets = demo_totp_secrets()
        for username, role, password in accounts:
            line = f"  {username:<10} {role:<16} password: {password}"
            if username in secrets:
                line += f"  TOTP secret: {secrets[username]}"
            self.stdout.write(line)
        self.stdout.write(
            "The accounts with a TOTP secret also need a code: add the secret to an authenticator "
            "app, or print the current code with `civicmark totp USERNAME` (demo accounts only)."
        )
        from civicmark.demo.sampling import summary

        for line in summary(url):
            self.stdout.write(line)
        from civicmark.demo.appeals import summary as appeals_summary

        for line in appeals_summary(url):
            self.stdout.write(line)
        from civicmark.demo.titles import summary as titles_summary

        for line in titles_summary(url):
            self.stdout.write(line)
        self._command_line_hint()
        if options["no_serve"]:
            return
        call_command("collectstatic", verbosity=0, interactive=False)
        gunicorn = shutil.which("gunicorn") or os.path.join(
            os.path.dirname(sys.executable), "gunicorn"
        )
        self.stdout.write(
            f"Serving with gunicorn ({options['workers']} workers, DEBUG={settings.DEBUG}); Ctrl-C stops."
        )
        if settings.TASKS_BACKEND != "immediate" and not options["no_task_worker"]:
            # gunicorn's master starts `civicmark worker --tick 60` and stops it with itself
            # (civicmark/config/gunicorn.py): exports finish and periodic jobs run (ADR 23).
            os.environ["CIVICMARK_EMBEDDED_WORKER"] = "1"
            self.stdout.write("A task worker runs beside it: long exports, periodic jobs.")
        sys.stdout.flush()
        os.execv(  # noqa: S606 - the demo becomes the server process, by design
            gunicorn,
            [
                gunicorn,
                # Each worker loads the PDF font as it starts (civicmark/config/gunicorn.py).
                "--config",
                "python:civicmark.config.gunicorn",
                "civicmark.config.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["workers"]),
                "--access-logfile",
                "-",
            ],
        )
