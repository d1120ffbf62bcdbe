"""Settings for the test suite: the production module with the test switch on."""

import os

os.environ.setdefault("CIVICMARK_TESTING", "1")
# The test server speaks plain HTTP; production settings are checked by test_settings.py.
os.environ.setdefault("HTTPS", "false")

from civicmark.config.settings import *  # noqa: E402,F403

# Hashing is deliberately slow in production; tests create many passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared in-memory test database: shared-cache memory databases answer
    # concurrent writers with "table is locked" at once instead of waiting the busy timeout, so
    # only a file (in WAL mode, as in production) tests concurrency truthfully.
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
# Tasks run at once, in the transaction's on-commit, unless a test picks another backend.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": TASKS_QUEUES,  # noqa: F405
    }
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The suite signs in with passwords; tests/test_signin.py turns the second factor on where it
# tests it. CIVICMARK_OTP_REQUIRED=1 in the environment runs the suite with it on.
CIVICMARK_OTP_REQUIRED = env_bool("CIVICMARK_OTP_REQUIRED", False)  # noqa: F405
# The read replica's alias, as a second connection to the test database itself (ADR 27): the
# router sends nothing there unless a test sets CIVICMARK_READ_REPLICA = "replica"
# (tests/test_replica_reads.py). On PostgreSQL its sessions are read-only, as a standby's are, so
# a write routed there by mistake fails the test.
DATABASES["replica"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "TEST": {"MIRROR": "default"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["replica"]["OPTIONS"] = {  # noqa: F405
        "options": f"-c default_transaction_read_only=on {PG_SESSION}".strip()  # noqa: F405
    }
CIVICMARK_READ_REPLICA = ""
