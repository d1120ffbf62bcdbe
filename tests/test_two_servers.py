"""Two application servers behind HAProxy share their sessions (issue 19 item 3, ADR 27): a
person signs in through the balancer, his requests land on both servers, and each server knows
him. Not timed (the bench measures); it runs wherever Debian's haproxy is installed (CI installs
it; CIVICMARK_REQUIRE_HAPROXY=1 makes its absence a failure instead of a skip)."""

from __future__ import annotations

import os
import socket
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from civicmark.bench.load import HAPROXY, PASSWORD, behind_haproxy, client, haproxy_config

pytestmark = pytest.mark.django_db(transaction=True)

HAVE_HAPROXY = os.access(HAPROXY, os.X_OK)


def _redis() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return ""
    return "redis://127.0.0.1:6379/12"


def _servers_env(tmp_path: Path) -> dict[str, str]:
    """The servers' settings: the test settings (the password hasher the users were made with),
    the test database itself (committed rows: the test is transactional), Redis when there is
    one."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    else:
        url = f"sqlite:///{settings['NAME']}"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "civicmark.config.test_settings",
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CIVICMARK_HOME": str(tmp_path),
        "CACHE_KEY_PREFIX": f"civicmark-two-servers-{os.getpid()}",
    }
    env.pop("REDIS_URL", None)
    if _redis():
        env["REDIS_URL"] = _redis()
    return env


@pytest.mark.skipif(
    not HAVE_HAPROXY and not os.environ.get("CIVICMARK_REQUIRE_HAPROXY"),
    reason=f"{HAPROXY} is not installed (apt-get install haproxy)",
)
def test_a_session_made_through_one_server_is_valid_through_the_other(world, tmp_path):
    user = world.users["town_officer"]
    user.full_name = "两台服务器"
    user.set_password(PASSWORD)
    user.save()
    with behind_haproxy(2, 1, _servers_env(tmp_path)) as base:
        opener, _token = client(base, user.username)  # signed in through one of them
        served = Counter()
        for _ in range(6):
            with opener.open(f"{base}/") as response:
                assert response.status == 200  # not the sign-in page: a redirect would raise
                page = response.read().decode()
                served[response.headers["X-Backend"]] += 1
            assert "两台服务器" in page
    assert set(served) == {"app1", "app2"}, served


def test_the_balancer_names_the_server_that_answered():
    config = haproxy_config(8000, {"app1": 8001, "app2": 8002})
    assert "balance roundrobin" in config and "http-response set-header X-Backend %s" in config
    assert "server app1 127.0.0.1:8001" in config and "server app2 127.0.0.1:8002" in config
