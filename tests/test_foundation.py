"""Settings, security basics, audit trail, demo city and translations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from civicmark.accounts.models import User
from civicmark.core import audit
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import CommunityProfile, Department, Division, WorkingGroup

ROOT = Path(__file__).resolve().parent.parent


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CIVICMARK_", "DJANGO_", "HTTPS", "DATABASE_URL"))
    }
    env.update(
        {
            "SECRET_KEY": "p" * 30 + "-production-secret-for-the-check-only-xyz",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "civicmark.example.gov.cn",
            "DJANGO_SETTINGS_MODULE": "civicmark.config.settings",
            **extra,
        }
    )
    return env


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "civicmark", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(CIVICMARK_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_a_missing_or_short_secret(tmp_path):
    env = _production_env(CIVICMARK_HOME=str(tmp_path), SECRET_KEY="short")
    result = subprocess.run(
        [sys.executable, "-m", "civicmark", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


REDIS_PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.core.cache import cache
out = {"backend": settings.CACHES["default"]["BACKEND"], "sessions": settings.SESSION_ENGINE}
if __import__("sys").argv[1] == "roundtrip":
    cache.set("civicmark-test-probe", {"n": 1}, 30)
    out["read"] = cache.get("civicmark-test-probe")
    cache.delete("civicmark-test-probe")
print(json.dumps(out))
"""


def _redis_probe(tmp_path: Path, mode: str, url: str) -> dict:
    import json

    result = subprocess.run(
        [sys.executable, "-c", REDIS_PROBE, mode],
        env=_production_env(CIVICMARK_HOME=str(tmp_path), REDIS_URL=url),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_redis_url_shares_the_cache_and_the_sessions_cache(tmp_path):
    found = _redis_probe(tmp_path, "settings", "redis://127.0.0.1:6379/15")
    assert found == {
        "backend": "django.core.cache.backends.redis.RedisCache",
        "sessions": "django.contrib.sessions.backends.cached_db",
    }


def test_the_redis_cache_answers_when_a_server_is_there(tmp_path):
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 (the settings test above still runs)")
    found = _redis_probe(tmp_path, "roundtrip", "redis://127.0.0.1:6379/15")
    assert found["read"] == {"n": 1}


def test_an_unknown_task_backend_is_refused_at_start(tmp_path):
    env = _production_env(CIVICMARK_HOME=str(tmp_path), TASKS_BACKEND="celery")
    result = subprocess.run(
        [sys.executable, "-m", "civicmark", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "TASKS_BACKEND='celery' is not one of" in result.stderr


def test_the_rq_task_backend_needs_redis_and_is_refused_without(tmp_path):
    env = _production_env(CIVICMARK_HOME=str(tmp_path), TASKS_BACKEND="rq")
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "civicmark", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "TASKS_BACKEND=rq needs REDIS_URL" in result.stderr


def test_the_rq_task_backend_takes_its_queue_from_redis_url(tmp_path):
    """TASKS_BACKEND=rq: django-rq's queue (the one TASKS_QUEUE names) lives on REDIS_URL and the
    system check (which the RQ backend extends) passes."""
    env = _production_env(
        CIVICMARK_HOME=str(tmp_path),
        TASKS_BACKEND="rq",
        TASKS_QUEUE="civicmark-a",
        REDIS_URL="redis://127.0.0.1:6379/14",
    )
    probe = (
        "import django, json; django.setup(); from django.conf import settings; "
        "from django.core.management import call_command; call_command('check'); "
        "print(json.dumps([settings.TASKS, settings.RQ_QUEUES, 'django_rq' in settings.INSTALLED_APPS]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    tasks, queues, installed = json.loads(result.stdout.strip().splitlines()[-1])
    assert tasks == {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["civicmark-a", "default"]}
    }
    on_redis = {"URL": "redis://127.0.0.1:6379/14", "DEFAULT_TIMEOUT": 3600}
    assert queues == {"civicmark-a": on_redis, "default": on_redis}
    assert installed


@pytest.mark.django_db
def test_sqlite_runs_in_wal_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings only")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert "journal_mode=WAL" in options["init_command"]
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


def test_passwords_are_hashed_with_argon2_in_production():
    from civicmark.config import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert "axes.middleware.AxesMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_the_audit_trail_is_append_only():
    with transaction.atomic():
        event = audit.record(actor=None, action="test", object_type="x")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(action="forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_login_is_throttled_after_five_failures(client):
    User.objects.create_user("clerk", password="Correct-horse-2026")
    for _ in range(5):
        client.post(
            reverse("login"), {"username": "clerk", "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )
    response = client.post(
        reverse("login"),
        {"username": "clerk", "password": "Correct-horse-2026"},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_pages_carry_security_headers(client):
    User.objects.create_user("clerk", password="Correct-horse-2026")
    client.post(reverse("login"), {"username": "clerk", "password": "Correct-horse-2026"})
    response = client.get(reverse("home"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["community_staff"])
    response = client.post(reverse("profile_edit", args=["C111"]), {"households": 1})
    assert response.status_code == 403
    assert CommunityProfile.objects.get(division__code="C111").households == 1000


def _demo_state() -> tuple:
    return (
        list(Division.objects.values_list("code", "name", "path")),
        list(CommunityProfile.objects.values_list("division__code", "households", "is_pilot")),
        list(Department.objects.values_list("code", "name")),
        list(WorkingGroup.objects.values_list("name", "division__code")),
        sorted(User.objects.values_list("username", "password")),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_the_demo_city_loads_and_loading_it_twice_changes_nothing():
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert Division.objects.filter(level="community").count() == 8
    assert CommunityProfile.objects.filter(is_pilot=True).count() == 1
    assert Department.objects.filter(division__level="city").count() == 8
    assert WorkingGroup.objects.count() == 4
    for role in (
        "city_admin",
        "county_officer",
        "town_officer",
        "community_staff",
        "assessor",
        "viewer",
    ):
        assert role in out.getvalue()
        assert User.objects.filter(roles__role=role).exists()
    assert "password: " in out.getvalue() and "http://127.0.0.1:8000/" in out.getvalue()
    from civicmark.campaigns.models import Campaign
    from civicmark.scoring.rounds import round_results

    campaign = Campaign.objects.get(slug="anping-2026")
    outcomes = sorted(str(r.outcome) for r in round_results(campaign.rounds.get(number=2)).values())
    assert outcomes == ["incomplete"] * 2 + ["not_reached"] + ["standard_unit"] * 4 + ["vetoed"]
    statuses = sorted(campaign.enrollments.values_list("status", flat=True))
    assert statuses == [
        "not_reached",
        "proposed",
        "self_assessing",
        "standard_unit",
        "standard_unit",
        "submitted",
        "title_withdrawn",  # 文昌社区, after its failed re-check and follow-up (issue 17)
        "vetoed",
    ]
    before = _demo_state()
    call_command("demo", "--no-serve", stdout=StringIO())
    assert _demo_state() == before


@pytest.mark.django_db
def test_every_demo_role_that_acts_finds_work_waiting_on_its_home():
    """The finding (a reviewer walking the demo as each role): every community was finished or
    had no staff account, 解放路 (the `community` account's) is signed off, 东关街道 had no town
    officer and the assessor had nothing to score in the open round ("已评 0/0")."""
    from civicmark.assessments.models import Evidence, SelfScore
    from civicmark.campaigns.models import Campaign
    from civicmark.home.views import _work

    call_command("demo", "--no-serve", stdout=StringIO())
    campaign = Campaign.objects.get(slug="anping-2026")

    def todos(username: str) -> dict[str, int]:
        user = User.objects.get(username=username)
        return {t.key: t.count for section in _work(user) for t in section["todos"]}

    for username in ("admin", "city", "county", "town", "town2", "community", "zhaoyang"):
        assert todos(username), username
    chaoyang = campaign.enrollments.get(community__code="990121001003")
    assert chaoyang.status == "self_assessing"
    answered = SelfScore.objects.filter(enrollment=chaoyang).count()
    assert 0 < answered < campaign.standard.items.count()
    assert Evidence.objects.filter(enrollment=chaoyang).exists()
    assert todos("zhaoyang")["self_assessment"] == campaign.standard.items.count() - answered
    assert todos("town2")["to_review"] == 1  # 滨河社区, submitted to 东关街道
    assert todos("assessor")["to_score"] >= 1  # 东关社区's I2 in the November round
    assert "to_review" not in todos("town")  # 城关镇's communities are where they were


@pytest.mark.django_db
def test_the_demo_loads_again_beside_another_city():
    """The finding (issue 16 item 12, the README run on a fresh clone): after `civicmark
    seed-scale` added its synthetic province, `make demo` stopped with "Name the city the
    standard belongs to."."""
    call_command("demo", "--no-serve", stdout=StringIO())
    call_command("seed-scale", "--communities", "2", "--prefix", "Z", stdout=StringIO())
    assert Division.objects.filter(level="city").count() == 2
    before = _demo_state()
    call_command("demo", "--no-serve", stdout=StringIO())
    assert _demo_state() == before


def _po_entries(text: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs; an entry with a context has "context\x04msgid" as its id, as
    gettext keys it."""
    import re

    def joined(block: str) -> str:
        return "".join(re.findall(r'"(.*)"', block)).replace('\\"', '"').replace("\\n", "\n")

    found = []
    for entry in text.split("\n\n")[1:]:
        m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', entry + "\n", re.M)
        if m:
            context = re.search(r'^msgctxt ((?:".*"\n?)+)msgid', entry + "\n", re.M)
            key = joined(m.group(1))
            if context:
                key = joined(context.group(1)) + "\x04" + key
            found.append((key, joined(m.group(2))))
    return found


def test_the_chinese_catalog_is_complete_and_compiled():
    import gettext

    po = ROOT / "civicmark/locale/zh_Hans/LC_MESSAGES/django.po"
    text = po.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = _po_entries(text)
    assert len(entries) > 200
    assert not [msgid for msgid, msgstr in entries if not msgstr]
    with open(po.with_suffix(".mo"), "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [msgid for msgid, msgstr in entries if compiled.gettext(msgid) != msgstr]
    assert not stale, f"run make messages: {stale[:3]}"


@pytest.mark.django_db
def test_pages_speak_chinese_by_default_and_english_on_request(world, client_for):
    client = client_for(world.users["town_officer"])
    assert "行政区划" in client.get(reverse("division_list")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Divisions" in client.get(reverse("division_list")).content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "vendor/htmx/htmx.min.js",
        "vendor/bootstrap/css/bootstrap.min.css",
        "vendor/bootstrap/js/bootstrap.bundle.min.js",
        "civicmark/app.css",
    ],
)
def test_every_asset_the_pages_load_is_vendored(path):
    from django.contrib.staticfiles import finders

    assert finders.find(path), path


def test_the_demo_serves_its_assets_under_production_settings(tmp_path):
    """collectstatic with the manifest storage, as `make demo` runs it, finds every asset."""
    env = _production_env(CIVICMARK_HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "civicmark", "collectstatic", "--noinput", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "var/static/staticfiles.json").read_text()
    assert "vendor/htmx/htmx.min.js" in manifest and "civicmark/app.css" in manifest


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_it_chooses(world, client_for):
    client = client_for(world.users["viewer"])
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我的工作" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My work" in client.get(reverse("home")).content.decode()


def test_an_open_finding_and_an_open_task_read_as_two_different_words_in_chinese():
    """Found (stop 23's note): a rectification still open read 未开始 ("not started"), the
    task's word, though its work may be half done: it is 待整改 ("awaiting rectification")."""
    from django.utils import translation

    from civicmark.assessments.models import RectificationStatus
    from civicmark.campaigns.models import TaskStatus

    with translation.override("zh-hans"):
        assert str(RectificationStatus.OPEN.label) == "待整改"
        assert str(TaskStatus.OPEN.label) == "未开始"
    with translation.override("en"):
        assert str(RectificationStatus.OPEN.label) == str(TaskStatus.OPEN.label) == "Open"


@pytest.mark.django_db
def test_postgresql_sessions_run_without_jit_unless_asked():
    """Found at 110,000 communities: PostgreSQL compiled a page's count over the province's
    enrolments for 110 ms to run it in 12 ms. The pages' statements are short: JIT is off."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
