"""Developer machine: `make run`. DEBUG on, a dev secret key, embedded SQLite and filesystem broker."""

from pathlib import Path

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.base import SECRET_KEY

DEBUG = env.bool("DEBUG", default=True)
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

# The OpenAPI schema and Swagger UI open to anyone on a developer's machine.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

# WhiteNoise serves from the static finders here; the collected folder need only exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405
