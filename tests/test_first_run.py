"""A newcomer's first five minutes (issue 16, item 12): after `make demo` the `civicmark` command
works with nothing set by hand, a missing secret is explained in one line, a local server does not
redirect to an https nobody serves, `--help` starts with CivicMark's own commands, and the pages
have a favicon."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
KEY = "k" * 30 + "-a-secret-for-the-first-run-tests-only"
PRINT_SECURITY = (
    "from django.conf import settings as s;"
    "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
)


def civicmark(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`civicmark ARGS` started in `home`, as a newcomer would: none of the project's variables
    set, except the ones given."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CIVICMARK_", "DJANGO_", "SECRET_KEY", "DEBUG", "HTTPS", "ALLOWED_"))
        and k != "DATABASE_URL"
    }
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "civicmark", *args],
        env={**clean, **env},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_it_explains_a_missing_secret_key_in_one_line_instead_of_a_traceback(tmp_path):
    result = civicmark(tmp_path, "check")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "SECRET_KEY" in line and "make demo" in line
    assert not (tmp_path / "var").exists()  # nothing written on the way


def test_it_reads_the_settings_make_demo_wrote_and_keeps_debug_off(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var/env").write_text(f"# written by make demo\nSECRET_KEY={KEY}\nDEBUG=false\n")
    result = civicmark(tmp_path, "shell", "-c", PRINT_SECURITY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "False", "False", "0"]


def test_it_lets_the_environment_win_over_the_file(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var/env").write_text("SECRET_KEY=short\n")
    result = civicmark(tmp_path, "shell", "-c", PRINT_SECURITY, SECRET_KEY=KEY)
    assert result.returncode == 0, result.stderr


def test_it_does_not_send_a_local_server_to_https_but_a_named_host_gets_it(tmp_path):
    local = civicmark(tmp_path, "shell", "-c", PRINT_SECURITY, SECRET_KEY=KEY)
    assert local.returncode == 0, local.stderr
    assert local.stdout.strip().splitlines()[-1].split() == ["False", "False", "False", "0"]
    server = civicmark(
        tmp_path, "shell", "-c", PRINT_SECURITY, SECRET_KEY=KEY, ALLOWED_HOSTS="cm.example.gov.cn"
    )
    assert server.returncode == 0, server.stderr
    assert server.stdout.strip().splitlines()[-1].split() == ["False", "True", "True", "31536000"]


def test_it_lists_civicmarks_own_commands_first_with_their_help(tmp_path):
    result = civicmark(tmp_path, "--help", SECRET_KEY=KEY)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    ours, django = out.index("CivicMark's commands:"), out.index("Django's commands:")
    assert ours < django
    assert ours < out.index("import-divisions") < django < out.index("migrate")
    assert "Import divisions and community profiles from .xlsx or .csv" in out[ours:django]


def test_it_serves_a_favicon_under_production_settings(tmp_path):
    result = civicmark(
        tmp_path,
        "collectstatic",
        "--noinput",
        "-v0",
        SECRET_KEY=KEY,
        CIVICMARK_HOME=str(tmp_path),
        ALLOWED_HOSTS="cm.example.gov.cn",
    )
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "var/static/staticfiles.json").read_text()
    assert '"civicmark/favicon.svg"' in manifest


def test_every_page_links_the_favicon(client, db):
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in page and "civicmark/favicon.svg" in page
