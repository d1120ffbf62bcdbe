"""What the load figures share: signed-in HTTP clients, many of them in threads for a fixed time,
the CPU each process group spent meanwhile (from /proc), and the servers they talk to (gunicorn
instances, HAProxy in front of them), started as subprocesses of the bench and stopped with it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD = "bench-password-2026"  # noqa: S105  (synthetic users of a throwaway database)
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def emit(**figure: Any) -> None:
    """One figure, one JSON line on stdout (the orchestrator prints and keeps it)."""
    print(json.dumps(figure, ensure_ascii=False, default=str), flush=True)


Job = Callable[[int, urllib.request.OpenerDirector, str, int], tuple[bool, Any]]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None


def client(base: str, username: str | None) -> tuple[urllib.request.OpenerDirector, str]:
    """A cookie-keeping client, signed in as `username` through the login page (None: anonymous),
    and its CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    if username is None:
        return opener, ""
    opener.open(f"{base}/accounts/login/").read()
    token = next(c.value or "" for c in jar if c.name == "csrftoken")
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=body)
    request.add_header("Referer", f"{base}/accounts/login/")
    try:
        opener.open(request)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise
    token = next(c.value or "" for c in jar if c.name == "csrftoken")
    return opener, token


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # its start
    backend: str  # the server that answered, as HAProxy names it ("" without HAProxy)


def post(opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str]) -> Answer:
    """POST a form (a redirect is the usual success here)."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    request.add_header("Referer", url)
    try:
        with opener.open(request) as response:
            body = response.read(200).decode(errors="replace")
            return Answer(response.status, body, response.headers.get("X-Backend", ""))
    except urllib.error.HTTPError as exc:
        body = exc.read()[:200].decode(errors="replace")
        return Answer(exc.code, body, exc.headers.get("X-Backend", ""))


def run_load(
    base: str, clients: int, seconds: float, job: Job, users: list[str | None]
) -> dict[str, Any]:
    """`clients` threads, each signed in as its user, calling `job` for `seconds`: requests a
    second, latencies, errors, and the CPU spent by each process group while they ran."""
    sessions = [client(base, users[i]) for i in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    done: list[Any] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        opener, token = sessions[index]
        n = 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                ok, info = job(index, opener, token, n)
            except Exception as exc:  # counted, reported
                ok, info = False, repr(exc)[:200]
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                (done if ok else errors).append(info)
            n += 1

    # Where the machine's CPU goes while the clients run (the logins above left out): it is what
    # bounds the throughput on a machine whose cores the server, database and clients share.
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": round(n / wall, 1),
        "p50_ms": round(1000 * latencies[n // 2], 1) if n else None,
        "p99_ms": round(1000 * latencies[max(int(n * 0.99) - 1, 0)], 1) if n else None,
        "max_ms": round(1000 * latencies[-1], 1) if n else None,
        "errors": len(errors),
        "error_sample": errors[:3],
        "cpu_ms": per_request_ms(cpu_before, cpu_after, n),
        # Of the machine's cores, how many were busy on average (all processes, anyone's).
        "cores_busy": round((cpu_after["machine"] - cpu_before["machine"]) / wall, 2),
        "done": done,
    }


GROUPS = {"gunicorn": "app", "postgres": "database", "haproxy": "balancer", "redis-server": "redis"}
# The bench's own gunicorn ports: other people's servers on this machine are not counted.
SERVED: set[int] = set()


def _ours(group: str, pid: str) -> bool:
    """Whether a gunicorn or PostgreSQL process works for this bench: a gunicorn bound to one of
    its ports, a PostgreSQL backend connected to its database. Others on a shared machine run
    their own tests and servers; their CPU is in "machine" only."""
    if group not in ("app", "database"):
        return True
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if group == "app":
        return any(f"127.0.0.1:{port}" in command for port in SERVED)
    return f" {_database_name()} " in f"{command} "


def _database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"].get("NAME", ""))


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far, by process group: this bench's gunicorn workers, PostgreSQL's
    backends serving its database, HAProxy, Redis, this process (the load generator's threads),
    and the whole machine (every core's busy time, from /proc/stat, anyone's processes). Only
    "client" where /proc cannot be read."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        group = GROUPS.get(name, "")
        if group and _ours(group, stat.parent.name):
            found[group] = found.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    try:
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        idle = int(cpu[3]) + int(cpu[4])  # idle + iowait
        found["machine"] = (sum(int(v) for v in cpu[:8]) - idle) / ticks
    except (OSError, IndexError, ValueError):
        found["machine"] = 0.0
    times = os.times()
    found["client"] = times.user + times.system
    return found


def per_request_ms(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    """Milliseconds of CPU per request, by group; "all" sums the groups named (the machine's own
    total, which counts everyone's processes, is left out of it)."""
    if not n:
        return {}
    spent = {k: after[k] - before.get(k, 0.0) for k in after}
    out = {k: round(1000 * v / n, 2) for k, v in spent.items()}
    out["all"] = round(1000 * sum(v for k, v in spent.items() if k != "machine") / n, 2)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def default_workers() -> int:
    """gunicorn's workers for the figure: one per core plus one, as docs/performance.md advises
    when PostgreSQL shares the host (2 x cores + 1 starves the database of CPU)."""
    return (os.cpu_count() or 1) + 1


def wait_until_up(url: str, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gunicorn(port: int, workers: int, env: Mapping[str, str]) -> Iterator[str]:
    """A gunicorn serving CivicMark on 127.0.0.1:`port` with `workers` sync workers, until the
    block ends; yields its address."""
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "civicmark.config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=dict(env),
    )
    base = f"http://127.0.0.1:{port}"
    SERVED.add(port)
    try:
        wait_until_up(f"{base}/health/", process)
        yield base
    finally:
        _stop(process)
        SERVED.discard(port)


def haproxy_config(port: int, backends: dict[str, int]) -> str:
    """HAProxy in front of the named backends (name -> port), round robin; each answer names the
    backend that served it (X-Backend), so a test can see requests land on every server."""
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{backend} maxconn 64" for name, backend in backends.items()
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 120s
    option http-server-close

frontend civicmark
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    http-response set-header X-Backend %s
{servers}
"""


@contextmanager
def haproxy(backends: dict[str, int]) -> Iterator[str]:
    """HAProxy from Debian's package, run in the foreground as a subprocess with its
    configuration in a temporary folder (no root, no service); yields its address."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="civicmark-haproxy-") as folder:
        config = Path(folder) / "haproxy.cfg"
        config.write_text(haproxy_config(port, backends))
        subprocess.run([HAPROXY, "-c", "-q", "-f", str(config)], check=True)
        process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)])
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/health/", process)
            yield base
        finally:
            _stop(process)


@contextmanager
def behind_haproxy(servers: int, workers: int, env: Mapping[str, str]) -> Iterator[str]:
    """`servers` gunicorn instances of `workers` workers each, on their own ports, sharing the
    database and (with REDIS_URL in `env`) Redis, and HAProxy in front; yields HAProxy's
    address."""
    with ExitStack() as stack:
        ports = {f"app{n + 1}": free_port() for n in range(servers)}
        for port in ports.values():
            stack.enter_context(gunicorn(port, workers, env))
        yield stack.enter_context(haproxy(ports))
