"""Test settings: fast hashing, eager Celery, no outbound mail. DATABASE_URL still picks the database."""

from pathlib import Path

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

# WhiteNoise serves from the static finders here; the collected folder need only exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405
