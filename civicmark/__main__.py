"""The `civicmark` console command: Django's manage.py for this project.

It reads CIVICMARK_HOME/var/env (CIVICMARK_HOME defaults to the current directory) when the file
is there: `make demo` writes the demo's settings into it, so that `civicmark …` works afterwards
without any variable set by hand. Variables set in the environment win over the file.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from civicmark.config.env import env_bool, read_env_file

HELP_ARGS: tuple[list[str], ...] = ([], ["help"], ["--help"], ["-h"])


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicmark.config.settings")
    try:
        _read_settings()
    except ImproperlyConfigured as exc:
        sys.exit(f"civicmark: {_explain(exc)}")
    if sys.argv[1:] in HELP_ARGS:
        sys.stdout.write(command_list())
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def _read_settings() -> None:
    home = Path(os.environ.get("CIVICMARK_HOME") or Path.cwd())
    for key, value in read_env_file(home / "var" / "env").items():
        os.environ.setdefault(key, value)
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - reads the settings module, which checks the environment


def _explain(exc: ImproperlyConfigured) -> str:
    """One line saying what to do, instead of Django's traceback."""
    missing_key = "SECRET_KEY" not in os.environ and not (
        env_bool("DEBUG", False) or env_bool("CIVICMARK_TESTING", False)
    )
    if missing_key:
        return (
            "SECRET_KEY is not set. Run `make demo` once in the checkout (it writes var/env, which civicmark "
            "reads when started there), or set SECRET_KEY to 50+ random characters."
        )
    return str(exc)


def command_list() -> str:
    """`civicmark --help`: CivicMark's own commands first, each with its one-line help, then
    Django's, which a newcomer rarely needs, by application."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    ours: list[str] = []
    theirs: dict[str, list[str]] = defaultdict(list)
    for name, app in sorted(get_commands().items()):
        if app.startswith("civicmark"):
            text = " ".join(str(load_command_class(app, name).help).split())
            summary = re.split(r"(?<=\.)\s", text, maxsplit=1)[0]
            ours.append(f"  {name:<20} {summary}")
        else:
            theirs["django" if app == "django.core" else app.rpartition(".")[2]].append(name)
    lines = [
        "Usage: civicmark COMMAND [options]; `civicmark help COMMAND` shows a command's options.",
        "",
        "CivicMark's commands:",
        *ours,
        "",
        "Django's commands:",
        *(f"  [{app}] {', '.join(names)}" for app, names in sorted(theirs.items())),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
