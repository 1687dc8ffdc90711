"""Test settings: fast hashing, eager Celery, no outbound mail. DATABASE_URL still picks the database."""

from pathlib import Path

from config.env import VAR_DIR, env
from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PHONENUMBER_DEFAULT_REGION = "US"
# No rate limits unless a test sets its own (tests/core/test_throttling*.py): the suite sends what it likes.
API_THROTTLE_RATES = {}
API_FAILED_AUTHENTICATION_RATE = None
API_DOCS_PUBLIC = True
# The per-process copies of API clients and webhook endpoints never expire by themselves in a test, however slow the
# machine: query budgets count a warm copy. Tests of their lifetime set it (tests/crm/test_api_key_cache.py,
# tests/webhooks/services/test_event_receivers.py); every test starts with none (tests/conftest.py).
API_KEY_CACHE_SECONDS = 3600
WEBHOOK_RECEIVERS_CACHE_SECONDS = 3600
# Every vendor adapter mounted, so that the suite and the OpenAPI document cover them.
COMPAT_ADAPTERS = ["antavo", "capillary", "loyaltylion"]

# WhiteNoise serves from the static finders here; the collected folder need only exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405

# SQLite tests use a file, not memory, so that --reuse-db keeps the migrated schema between runs; pytest-xdist
# workers each get their own copy (pytest-django appends _gw0, _gw1). Two test runs at once need two directories.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    SQLITE_TEST_DB_DIR = env.path("SQLITE_TEST_DB_DIR", default=str(VAR_DIR))
    Path(SQLITE_TEST_DB_DIR).mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(Path(SQLITE_TEST_DB_DIR) / "test_db")  # noqa: F405
