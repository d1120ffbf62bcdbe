"""The one settings module. Every deployment difference comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from civicmark.config.env import env_bool, env_int, env_list, env_str
from civicmark.config.storage import default_storage_from

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("CIVICMARK_HOME", str(Path.cwd())))
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("CIVICMARK_TESTING", False)

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key" if (DEBUG or TESTING) else None)
if not (DEBUG or TESTING) and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "civicmark.core",
    "civicmark.accounts",
    "civicmark.notifications",
    "civicmark.divisions",
    "civicmark.standards",
    "civicmark.campaigns",
    "civicmark.scoring",
    "civicmark.assessments",
    "civicmark.results",
    "civicmark.employment",
    "civicmark.surveys",
    "civicmark.quality",
    "civicmark.home",
    "civicmark.api",
    # For its swagger-ui template and static files (served by whitenoise, never a CDN).
    "ninja",
    "civicmark.demo",
    "civicmark.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "civicmark.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The second factor owed and the privileged idle timeout, before any view runs.
    "civicmark.accounts.middleware.SignInPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "civicmark.core.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# The benchmark serves its bare baseline view beside the real ones (civicmark/bench/urls.py).
ROOT_URLCONF = env_str("CIVICMARK_URLCONF", "civicmark.config.urls")
WSGI_APPLICATION = "civicmark.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "civicmark.accounts.context_processors.navigation",
                "civicmark.home.context_processors.work_links",
                "civicmark.notifications.context_processors.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default: WAL lets readers and one writer work at once, IMMEDIATE makes
# a write transaction take the lock when it starts (so it waits the busy timeout instead of
# failing with "database is locked" when it later upgrades from read to write).
SQLITE_PATH = VAR_DIR / "civicmark.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASE_URL.startswith("sqlite:///") and DATABASES["default"]["NAME"] == str(SQLITE_PATH):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's JIT compiles any statement its planner costs above jit_above_cost: a page's count
# over a province's 110,000 enrolments spent 110 ms compiling for 12 ms of work (issue 19, ADR
# 29). The pages run short statements; CIVICMARK_PG_JIT=true gives the server's own setting back.
PG_SESSION = "" if env_bool("CIVICMARK_PG_JIT", False) else "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PG_SESSION:
    DATABASES["default"]["OPTIONS"] = {"options": PG_SESSION}
# A read replica (PostgreSQL streaming replication, ADR 27): dashboards and exports read from it
# when DATABASE_REPLICA_URL names one; every write, and every read inside a write's transaction,
# stays on `default` (civicmark/core/replicas.py). Its sessions are read-only as well, so a write
# sent there by mistake fails instead of landing on a server that is not the record.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
CIVICMARK_READ_REPLICA = ""
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=600)
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name the same kind of database.")
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["replica"]["OPTIONS"] = {
            "options": f"-c default_transaction_read_only=on {PG_SESSION}".strip()
        }
    CIVICMARK_READ_REPLICA = "replica"
DATABASE_ROUTERS = ["civicmark.core.replicas.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "civicmark.accounts.passwords.LengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not one character repeated (or a few), not a keyboard run, not the username or name.
    {"NAME": "civicmark.accounts.passwords.PasswordPolicyValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_LINK_SECONDS", 3 * 24 * 3600)

# Login throttling (civicmark/accounts/throttle.py), each for an hour: five failures for one
# username from any addresses; CIVICMARK_ADDRESS_FAILURE_LIMIT failures from one address (higher:
# a whole office may share one gateway); one password failing for CIVICMARK_SPRAY_LIMIT
# different usernames (a password spray), counted by a keyed hash in the cache.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "civicmark.accounts.throttle.SignInAttemptHandler"
CIVICMARK_ADDRESS_FAILURE_LIMIT = env_int("CIVICMARK_ADDRESS_FAILURE_LIMIT", 30)
CIVICMARK_SPRAY_LIMIT = env_int("CIVICMARK_SPRAY_LIMIT", 10)
CIVICMARK_SPRAY_WINDOW_SECONDS = 3600
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Second factor (TOTP, django-otp): required of superusers, municipal office administrators and
# county officers; anyone else may enrol. Turning it off is for development and automated tests
# only. Privileged sessions end after CIVICMARK_PRIVILEGED_IDLE_MINUTES without a request.
CIVICMARK_OTP_REQUIRED = env_bool("CIVICMARK_OTP_REQUIRED", True)
CIVICMARK_PRIVILEGED_IDLE_MINUTES = env_int("CIVICMARK_PRIVILEGED_IDLE_MINUTES", 30)
OTP_TOTP_ISSUER = "CivicMark"
# The admin's device pages would show every person's TOTP key and its QR code to any superuser:
# whoever reads a key holds that person's second factor.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- The JSON API (ADR 24) -------------------------------------------------------------------
# Personal access tokens last at most CIVICMARK_API_TOKEN_MAX_DAYS; each person may make
# CIVICMARK_API_RATE requests a minute with his tokens (counted in the cache: per process without REDIS_URL,
# shared with it); CIVICMARK_API_PAGE_MAX caps a list's `limit`.
CIVICMARK_API_TOKEN_MAX_DAYS = env_int("CIVICMARK_API_TOKEN_MAX_DAYS", 365)
CIVICMARK_API_RATE = env_int("CIVICMARK_API_RATE", 600)
# Refused tokens from one address in a minute before it is answered 429 without a look-up.
CIVICMARK_API_REFUSED_PER_ADDRESS = env_int("CIVICMARK_API_REFUSED_PER_ADDRESS", 30)
CIVICMARK_API_PAGE_MAX = env_int("CIVICMARK_API_PAGE_MAX", 200)

# --- Cache and sessions --------------------------------------------------------------------
# Without REDIS_URL: each process keeps its own cache (throttles count per process) and sessions
# live in the database. With it, several application servers share one cache, and a session is
# read from Redis and written through to the database (`cached_db`: the database stays the
# record, so a Redis restart logs nobody out and a logout reaches every server at once).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "civicmark"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Survey codes on the public answer page (civicmark/surveys/throttle.py, ADR 9): failed tries
# counted in the cache over a window, per code, per community's survey, and together for codes
# that belong to no survey; never per address (a whole estate may share one).
SURVEY_CODE_WINDOW_SECONDS = env_int("SURVEY_CODE_WINDOW_SECONDS", 600)
SURVEY_CODE_FAILURES = env_int("SURVEY_CODE_FAILURES", 5)
SURVEY_COMMUNITY_FAILURES = env_int("SURVEY_COMMUNITY_FAILURES", 30)
SURVEY_UNKNOWN_FAILURES = env_int("SURVEY_UNKNOWN_FAILURES", 100)

# Objections to a public notice (civicmark/assessments/notice.py): each address may send
# NOTICE_OBJECTIONS per notice within the window. An estate's Wi-Fi is one address, so the limit
# is generous; it stops a script, not a neighbourhood.
NOTICE_OBJECTION_WINDOW_SECONDS = env_int("NOTICE_OBJECTION_WINDOW_SECONDS", 3600)
NOTICE_OBJECTIONS = env_int("NOTICE_OBJECTIONS", 10)
# The official working-day calendar (holidays, adjusted weekends), by model label: kept by the
# employment station, read by the notice windows through this setting (ADR 19, ADR 22).
CIVICMARK_WORKING_CALENDAR = "employment.Holiday"

# --- Sessions, cookies, headers -------------------------------------------------------------
# HTTPS is on unless said otherwise, or unless the server answers only on this machine (the
# default ALLOWED_HOSTS): 127.0.0.1 has no certificate, and a newcomer who sets SECRET_KEY alone
# must not be redirected to an https that nothing serves. A real server names its host, and so
# gets HTTPS, secure cookies and HSTS without asking.
LOCAL_ONLY = set(ALLOWED_HOSTS) <= {"127.0.0.1", "localhost", "::1", "[::1]"}
HTTPS = env_bool("HTTPS", not DEBUG and not LOCAL_ONLY)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Languages and time ---------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# No URL pattern and no static handler serves MEDIA_ROOT: evidence goes out only through
# permission-checked views. (Django still wants MEDIA_URL to be a string.)
MEDIA_URL = "/media/"
STORAGES = {
    # The filesystem under MEDIA_ROOT, or an S3-compatible bucket when CIVICMARK_S3_BUCKET names
    # one (civicmark/config/storage.py): evidence, long exports and backups' files alike.
    "default": default_storage_from(os.environ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# A workbook is measured before it is parsed: a 47 KB .xlsx can unpack to 100,000 rows, which
# would hold a worker for 20 s. The largest real import (a province's score sheet, a ledger) is
# a few tens of thousands of rows of at most a few dozen columns.
IMPORT_MAX_UNCOMPRESSED = env_int("IMPORT_MAX_UNCOMPRESSED", 200 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 200)
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "civicmark.employment.pii.ScrubbingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# The address shown in one-time password links printed by commands.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# The public address printed in certificates' QR codes (for example https://civicmark.example.gov.cn);
# empty means the address the certificate was downloaded from.
CIVICMARK_PUBLIC_URL = env_str("CIVICMARK_PUBLIC_URL", "")

# --- Background work: Django's task framework (django-tasks, ADR 23) --------------------------
# TASKS_BACKEND picks where tasks wait (long exports, the periodic jobs `civicmark tick` enqueues):
#   database   the embedded default: in this database, run by `civicmark worker` processes on any
#              machines (the demo starts one beside gunicorn);
#   rq         in Redis (REDIS_URL), run by `civicmark worker` (an RQ worker) on any machines;
#   immediate  at once, in the process that enqueues, after its transaction commits (a one-machine
#              install that wants no worker: a long export then holds its request).
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in TASKS_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND={TASKS_BACKEND!r} is not one of {', '.join(TASKS_BACKENDS)}."
    )
# The queue CivicMark's tasks are enqueued on (core.tasks.enqueue_on_commit): two installs sharing
# one Redis name one each. "default" stays valid beside it, for a task enqueued without a queue;
# `civicmark worker` runs every queue listed here.
TASKS_QUEUE = env_str("TASKS_QUEUE", "default")
TASKS_QUEUES = list(dict.fromkeys([TASKS_QUEUE, "default"]))
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[TASKS_BACKEND], "QUEUES": TASKS_QUEUES}}
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured(
            "TASKS_BACKEND=rq needs REDIS_URL (the Redis the tasks wait in)."
        )
    INSTALLED_APPS.append("django_rq")
# What a long-lived `civicmark worker` prepares before its first task (not with --batch): the PDF
# font, parsed once (seconds) instead of inside the first export that prints; an RQ worker's
# forked horses inherit it. Dotted paths of functions of no argument.
TASKS_WORKER_WARMUP = ["civicmark.results.pdf.load_fonts"]
# django-rq's queues, on the Redis the cache shares (tests point them at a database of their own).
RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}
    for name in TASKS_QUEUES
}

# --- Reminders and escalation (ADR 26) ----------------------------------------------------------
# A task or rectification is announced to its owner this many days before it is due; once
# overdue, it goes to its owner on the first day, to the office above his unit (a community's
# town) after CIVICMARK_ESCALATE_HEAD_DAYS days, and to the office above that (the county)
# CIVICMARK_ESCALATE_ABOVE_DAYS days later.
CIVICMARK_DUE_SOON_DAYS = env_int("CIVICMARK_DUE_SOON_DAYS", 3)
CIVICMARK_ESCALATE_HEAD_DAYS = env_int("CIVICMARK_ESCALATE_HEAD_DAYS", 3)
CIVICMARK_ESCALATE_ABOVE_DAYS = env_int("CIVICMARK_ESCALATE_ABOVE_DAYS", 7)
for _days in (
    "CIVICMARK_DUE_SOON_DAYS",
    "CIVICMARK_ESCALATE_HEAD_DAYS",
    "CIVICMARK_ESCALATE_ABOVE_DAYS",
):
    if not 1 <= globals()[_days] <= 365:
        raise ImproperlyConfigured(f"{_days} is a number of days from 1 to 365.")
del _days

# --- Mail ------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "civicmark@localhost")

# --- Notifications' channels (ADR 28) ------------------------------------------------------------
# The operator's SMS / WeChat Work gateway: every message is POSTed there as JSON, signed with
# HMAC-SHA256 over "timestamp.body" with the secret. Empty URL: no webhook channel.
CIVICMARK_WEBHOOK_URL = env_str("CIVICMARK_WEBHOOK_URL", "")
CIVICMARK_WEBHOOK_SECRET = env_str("CIVICMARK_WEBHOOK_SECRET", "")
CIVICMARK_WEBHOOK_TIMEOUT = env_int("CIVICMARK_WEBHOOK_TIMEOUT", 10)
if CIVICMARK_WEBHOOK_URL and not CIVICMARK_WEBHOOK_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("CIVICMARK_WEBHOOK_URL is an http:// or https:// address.")
if CIVICMARK_WEBHOOK_URL and len(CIVICMARK_WEBHOOK_SECRET) < 16:
    raise ImproperlyConfigured("CIVICMARK_WEBHOOK_SECRET needs at least 16 characters.")
# A failed email or webhook is tried again after 1, 2, 4, 8 … times the backoff, at most this
# many attempts in all.
CIVICMARK_DELIVERY_ATTEMPTS = env_int("CIVICMARK_DELIVERY_ATTEMPTS", 6)
CIVICMARK_DELIVERY_BACKOFF = env_int("CIVICMARK_DELIVERY_BACKOFF", 60)
# The daily digest goes out at the first run of the periodic jobs after this local hour.
CIVICMARK_DIGEST_HOUR = env_int("CIVICMARK_DIGEST_HOUR", 8)

# Residents' personal data (ID numbers) are encrypted with a key of their own, so that rotating
# SECRET_KEY does not lose them. Unset, the key is derived from SECRET_KEY (fine for the demo;
# production sets PII_KEY and keeps it with the database backups).
PII_KEY = env_str("PII_KEY", "") or SECRET_KEY
# Zero-employment households: the default clearing deadline (a province may set its own rule).
CIVICMARK_ZERO_EMPLOYMENT_DEADLINE = env_str(
    "CIVICMARK_ZERO_EMPLOYMENT_DEADLINE", "10 working_days"
)
# Follow-up checks after a placement, in months; the last one gives the retention rate.
CIVICMARK_FOLLOW_UP_MONTHS = [int(m) for m in env_list("CIVICMARK_FOLLOW_UP_MONTHS", "1,3")]
# Departments whose assessors see the employment indicators beside their items.
CIVICMARK_LABOUR_DEPARTMENTS = env_list("CIVICMARK_LABOUR_DEPARTMENTS", "LABOUR")
# Services each registered unemployed or 4050 resident gets at least, each year (Hunan's "311":
# three job offers, one guidance session, one training notice = 5).
CIVICMARK_DEFAULT_PACKAGE = env_int("CIVICMARK_DEFAULT_PACKAGE", 3)
# Closed cases (moved away, or retired) are anonymised after this many years.
CIVICMARK_RETENTION_YEARS = env_int("CIVICMARK_RETENTION_YEARS", 5)
