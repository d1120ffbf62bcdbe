"""Screenshots of the main pages of each demo role, on a desktop and on a phone, for reviewers.

    make gallery          (or: .venv/bin/python scripts/gallery.py [--out var/gallery])

Loads the demo city into a temporary home, serves it with gunicorn as production does (DEBUG
off), signs in as each demo account in headless chromium (Playwright; CHROMIUM=/usr/bin/chromium
by default) and saves one full-page PNG per page and size under var/gallery/ (git-ignored), with
an index.html beside them. The pages are the ones tests/browser/test_accessibility_in_browser.py
checks with axe-core (tests/browser/tour.py). Prints the folder.
"""

from __future__ import annotations

import argparse
import html
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.tour import DESKTOP, PASSWORD, PHONE, TOUR, sign_in  # noqa: E402

SIZES = (("desktop", DESKTOP), ("phone", PHONE))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, port: int) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env = {
        **os.environ,
        "CIVICMARK_HOME": str(home),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "false",
        "HTTPS": "false",
        "CIVICMARK_OTP_REQUIRED": "false",  # the gallery signs in with the password alone
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)  # always the temporary home's own SQLite file
    run = {"cwd": home, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    python = sys.executable
    print("loading the demo city into", home, flush=True)
    subprocess.run([python, "-m", "civicmark", "demo", "--no-serve"], **run)  # noqa: S603
    subprocess.run([python, "-m", "civicmark", "collectstatic", "--noinput", "-v0"], **run)  # noqa: S603
    gunicorn = str(Path(python).with_name("gunicorn"))
    server = subprocess.Popen(  # noqa: S603
        [gunicorn, "-c", "python:civicmark.config.gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=home,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2):  # noqa: S310
                return server, env
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("the demo server did not answer /health/")


def _shoot(base: str, out: Path) -> list[tuple[str, str, str, str]]:
    from playwright.sync_api import sync_playwright

    shots = []
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
        for size_name, size in SIZES:
            for username, pages in TOUR:
                context = browser.new_context(
                    locale="zh-CN", viewport=size, is_mobile=size is PHONE
                )
                page = context.new_page()
                page.set_default_timeout(30000)
                sign_in(page, base, username, PASSWORD)
                for n, (name, path) in enumerate(pages, 1):
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("networkidle")
                    file = f"{size_name}/{username}-{n:02d}-{name}.png"
                    page.screenshot(path=str(out / file), full_page=True)
                    shots.append((size_name, username, path, file))
                    print(" ", file, flush=True)
                context.close()
        browser.close()
    return shots


def _index(out: Path, shots: list[tuple[str, str, str, str]]) -> None:
    rows = "\n".join(
        f"<figure><figcaption>{html.escape(f'{s} · {u} · {p}')}</figcaption>"
        f'<a href="{f}"><img src="{f}" loading="lazy" alt="{html.escape(f"{u} {p}")}"></a></figure>'
        for s, u, p, f in shots
    )
    out.joinpath("index.html").write_text(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>CivicMark gallery</title>'
        "<style>body{font-family:sans-serif}figure{display:inline-block;vertical-align:top;"
        "margin:8px;width:420px}img{width:100%;border:1px solid #ccc}</style>\n"
        f"<h1>CivicMark gallery</h1>\n{rows}\n</html>\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "var" / "gallery"))
    out = Path(parser.parse_args().out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    for size_name, _ in SIZES:
        (out / size_name).mkdir(parents=True)
    home = Path(tempfile.mkdtemp(prefix="civicmark-gallery-"))
    port = _free_port()
    server, _env = _serve(home, port)
    try:
        shots = _shoot(f"http://127.0.0.1:{port}", out)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    _index(out, shots)
    print(f"{len(shots)} screenshots in {out} (open {out / 'index.html'})")


if __name__ == "__main__":
    main()
