"""Developer machine: `make run`. DEBUG on, a dev secret key, embedded SQLite and filesystem broker."""

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.base import SECRET_KEY

DEBUG = env.bool("DEBUG", default=True)
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
