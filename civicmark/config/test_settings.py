"""Settings for the test suite: the production module with the test switch on."""

import os

os.environ.setdefault("CIVICMARK_TESTING", "1")
# The test server speaks plain HTTP; production settings are checked by test_settings.py.
os.environ.setdefault("HTTPS", "false")

from civicmark.config.settings import *  # noqa: E402,F403

# Hashing is deliberately slow in production; tests create many passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
