"""Benchmark settings: the production stack (DEBUG off, same middleware and API settings) plus two floor views.

The database is DATABASE_URL (bench/customer_profile.py points it at its own SQLite file unless one is given).
"""

from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "bench-only-not-a-secret"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# One key sends thousands of requests a second here: the throttle still counts each one (its cost is measured) but
# never refuses.
API_THROTTLE_RATES = dict.fromkeys(API_THROTTLE_RATES, "1000000/s")  # noqa: F405
