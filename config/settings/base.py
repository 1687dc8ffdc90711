"""Every setting is declared here and read from the environment; the other modules only adjust."""

import re
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, VAR_DIR, env

DEBUG = env.bool("DEBUG", default=False)
# Secret key: production.py insists on a real one; only a DEBUG machine may fall back to a dev default.
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "core",
    "crm",
    "loyalty",
    "clienteling",
    "webhooks",
]

MIDDLEWARE = [
    # Load balancers probe /healthz and /readyz by address over plain HTTP: answered before host checks and redirects.
    "core.health.HealthCheckMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale, so that the API's 404 for a URL holding a NUL byte speaks the request's language.
    "core.nul_bytes.NulByteMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes wants to be last: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# The admin shows a new API key once as a message; keep messages server-side rather than in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the Celery worker writes; IMMEDIATE avoids
        # "database is locked" when a read transaction later tries to upgrade to a write.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif env.bool("DATABASE_POOL", default=False):
    # psycopg 3 connection pool (Django 5.1+); persistent connections must then be off.
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env.int("DATABASE_POOL_MAX", default=10)}}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Server-side binding lets psycopg 3 prepare a statement once it has run DATABASE_PREPARE_THRESHOLD times on a
    # connection; PostgreSQL then no longer parses and plans it on every request (the Scan & Go card query at
    # 1,000,000 customers: 11.7 ms a round trip, 1.1 ms prepared). Off behind PgBouncer in transaction mode
    # (docs/operations.md section 13).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out admin login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login lockout: after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (even with the right password) until AXES_COOLOFF_MINUTES pass without another try. Attempts are rows in
# the database (axes' tables), so every web process sees them.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The back office's name in its header, page titles and home page: the retailer's own name (config/urls.py).
BACK_OFFICE_NAME = env.str("BACK_OFFICE_NAME", default="Retail CRM")
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
# Uploaded files (the customer import's CSV files and their row reports): the web process writes them, the Celery
# worker reads them, so in production both must see this directory (a shared volume).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# A 10 MB POS payload is an error, not something to parse: the SPI answers 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# Cache: throttle counters. Local memory when unset (`make run`'s single runserver process; see docs/operations.md
# for why not the database cache); production names Redis, e.g. redis://127.0.0.1:6379/1.
CACHE_URL = env.str("CACHE_URL", default="") or "locmemcache://"
CACHES = {"default": env.cache_url_config(CACHE_URL)}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # An unreachable Redis must cost a request a short wait, not a hung worker: the throttles then let it through.
    CACHE_TIMEOUT = env.float("CACHE_TIMEOUT", default=0.5)
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": CACHE_TIMEOUT, "socket_timeout": CACHE_TIMEOUT}

# The client address behind NUM_PROXIES trusted proxies (load balancers) that append to X-Forwarded-For; 0 trusts
# no header and takes the socket's address. Throttles and the admin lockout count clients by it.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)


def _throttle_rate(value: str) -> str | None:
    """A rate as DRF spells it ("1200/min"); "off" means no limit. A typo fails at start."""
    value = value.strip()
    if value.lower() == "off":
        return None
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"Bad throttle rate {value!r}: use e.g. 600/min, or off.")
    return value


# Requests per API key and scope. API_THROTTLE_RATES=clienteling=600/min,scan_and_go=off overrides some of them.
API_THROTTLE_RATES = {
    scope: _throttle_rate(rate)
    for scope, rate in {
        "clienteling": "1200/min",
        "scan_and_go": "3000/min",
        "loyalty:read": "3000/min",
        "loyalty:write": "1200/min",
        "privacy": "60/min",
        **env.dict("API_THROTTLE_RATES", default={}),
    }.items()
}
# Seconds a web process trusts its copy of an authenticated API client (crm/api_key_cache.py): a key deactivated or
# rotated in another process is refused within this long; 0 reads the client on every request.
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=5.0)
# Wrong API keys per client address; past it every request with a key from there gets 429 for the rest of the window.
API_FAILED_AUTHENTICATION_RATE = _throttle_rate(env.str("API_FAILED_AUTHENTICATION_RATE", default="") or "60/min")
# Responses under these paths carry personal data: Cache-Control: no-store (core.middleware.NoStoreMiddleware).
API_NO_STORE_PATH_PREFIXES = ("/endpoint/sa/", "/customer-profile", "/api/v1/", "/compat/")
# /api/schema/ and /api/docs/ without a login (local.py's default); otherwise only staff signed in to the admin.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
# Vendor dialect adapters to mount under /compat/<vendor>/ (compat/urls.py), e.g. COMPAT_ADAPTERS=antavo; none by
# default.
COMPAT_ADAPTERS = env.list("COMPAT_ADAPTERS", default=[])
# Antavo adapter: take requests without an Escher signature from API clients that have no signing secret (Antavo's
# own non-production environments do until 2026-12-31). A client with a secret must always sign.
COMPAT_ANTAVO_ALLOW_UNSIGNED = env.bool("COMPAT_ANTAVO_ALLOW_UNSIGNED", default=False)
# The crm.ExternalCustomerId source under which the Antavo adapter keeps and finds Antavo's customer ids: "import"
# finds the customers the customer import brought in with their Antavo ids as external_id.
COMPAT_ANTAVO_CUSTOMER_ID_SOURCE = env.str("COMPAT_ANTAVO_CUSTOMER_ID_SOURCE", default="antavo")
# The parts /readyz must reach to answer 200 (all three are reported either way); see docs/operations.md.
HEALTH_READINESS_CHECKS = env.list("HEALTH_READINESS_CHECKS", default=["database", "cache", "broker"])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["crm.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.throttles.ApiClientRateThrottle"],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, with a bound on nesting depth (core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Retail CRM and loyalty back office",
    "DESCRIPTION": (
        "Clienteling SPI for Salesforce Commerce Point of Sale (formerly Retail Cloud), "
        "the Scan & Go Customer Profile API and the loyalty API. Authenticate with an API key as "
        "`Authorization: Bearer <key>`, `X-API-Key: <key>` or `?api_key=<key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "webhooks.schema.add_webhook_catalogue",
    ],
}

# Celery: kombu's filesystem broker under var/ unless CELERY_BROKER_URL names Redis or RabbitMQ.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FILESYSTEM_DIR = VAR_DIR / "celery-broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_FILESYSTEM_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
# A publish after a commit must not hold the request (core/enqueue.py tries once, then pauses publishing): these
# bound one attempt against a broker that hangs instead of refusing. Without them kombu's Redis transport waits
# on the socket for ever; RabbitMQ's connect and handshake take CELERY_BROKER_CONNECTION_TIMEOUT.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
        # Above the worker's BRPOP wait (1 s), which Redis answers even when the queue is empty.
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0),
    }
# After a publish fails, a process publishes nothing for this long; the sweepers queue that work again.
ENQUEUE_PAUSE_AFTER_BROKER_ERROR_SECONDS = env.float("ENQUEUE_PAUSE_AFTER_BROKER_ERROR_SECONDS", default=10.0)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat reads its schedule from the database (django-celery-beat's tables), written by `manage.py
# setup_periodic_tasks`, even when started without `--scheduler` (the Procfiles name it too, to be explicit).
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# Outbound webhooks (docs/webhooks.md): seconds before each attempt, timeouts, when an endpoint is disabled.
WEBHOOK_RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
WEBHOOK_TIMEOUTS = {
    "connect": env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0),
    "read": env.float("WEBHOOK_READ_TIMEOUT", default=15.0),
}
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=5)
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
# Must stay above the send task's 60 s hard time limit, so a live send is never reclaimed.
WEBHOOK_STUCK_AFTER_SECONDS = 300
WEBHOOK_SWEEP_GRACE_SECONDS = 30
WEBHOOK_SWEEP_BATCH_SIZE = 500
WEBHOOK_MAX_COUNTDOWN_SECONDS = 300
# How long a web process trusts its copy of the active endpoints before reading them again: an event no endpoint
# receives queues no task. An endpoint created in another process gets the events of that window a sweep later.
WEBHOOK_RECEIVERS_CACHE_SECONDS = env.float("WEBHOOK_RECEIVERS_CACHE_SECONDS", default=5.0)

# Phone numbers typed without a country code are read in this region (ISO 3166 alpha-2).
PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")

# Clienteling SPI wire options (the vendor leaves these to the merchant's connector configuration).
SPI_RESPONSE_ENVELOPE = env.str("SPI_RESPONSE_ENVELOPE", default="wrapped")  # "wrapped" or "bare"
SPI_EMIT_LEGACY_LOYALTY_PROFILE = env.bool("SPI_EMIT_LEGACY_LOYALTY_PROFILE", default=False)
SPI_DATE_FORMAT = env.str("SPI_DATE_FORMAT", default="epoch_ms")  # birthday as "epoch_ms" or "iso"
SPI_SEARCH_DEFAULT_LIMIT = 20
SPI_SEARCH_MAX_LIMIT = 100

# Loyalty defaults used when the data migration creates the first program.
LOYALTY_DEFAULT_CURRENCY = env.str("LOYALTY_DEFAULT_CURRENCY", default="USD")

# Logs: "plain" lines for people (local, tests), "json" for a log shipper (production's default). Each record
# carries the request id (X-Request-ID) or the Celery task it was written in (core/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"log_context": {"()": "core.logging.LogContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(log_context)s] %(message)s"},
        "json": {"()": "core.logging.ProductionJsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["log_context"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
