"""Settings, read from the environment (and an optional `.env`) with django-environ.

Every name is listed in `.env.example`; misconfiguration is reported by system checks
(`config/checks.py`, `payments/checks.py`), not by a stack trace at the first request.
"""

from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated setting, each item trimmed, empty items dropped: `"NZ, AU"` is
    `["NZ", "AU"]` (django-environ's own `env.list` keeps the spaces)."""
    return [item.strip() for item in env.list(name, default=default) if item.strip()]


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
# Without a key Django fails at the first use with a stack trace; instead a placeholder keeps
# it starting and the system check config.E001 refuses to run (see config/checks.py).
SECRET_KEY_MISSING = not SECRET_KEY and not DEBUG
SECRET_KEY = SECRET_KEY or "django-insecure-development-only"
# Earlier keys, comma-separated, still accepted for what they signed (sessions, password-reset
# links) while a new SECRET_KEY takes over (README, "Rotating a secret").
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
STOREFRONT_URL = env("STOREFRONT_URL", default="http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[STOREFRONT_URL])

INSTALLED_APPS = [
    "config.apps.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Before django_tasks_db: its `db_worker` command is config's (woken by NOTIFY).
    "config.apps.ConfigConfig",
    "django_tasks",
    "django_tasks_db",
    "catalog",
    "feeds",
    "orders",
    "payments",
    "gateway",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# Database: embedded SQLite by default, PostgreSQL (psycopg 3) in production and CI.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent checkouts queue
    # for it instead of failing on a lock upgrade; WAL lets readers carry on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # A `SELECT 1` before reusing a connection in each request: one round trip, which saves
    # the one request that would otherwise fail right after a database restart.
    DATABASES["default"].setdefault(
        "CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True)
    )
    # Server-side parameter binding lets psycopg prepare statements a connection repeats
    # (the webhook's). Behind PgBouncer in transaction mode, prepared statements need
    # PgBouncer 1.21+ with max_prepared_statements set; otherwise leave this off.
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=False):
        DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.NameSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:list"
LOGOUT_REDIRECT_URL = "catalog:list"

LANGUAGE_CODE = "en-nz"
TIME_ZONE = env("TIME_ZONE", default="Pacific/Auckland")  # shown times; order numbers use UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: on by default whenever DEBUG is off. TLS usually ends at a proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Stripe. No secret key in DEBUG means the local payment simulator (payments/simulator.py).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
CHECKOUT_EXPIRY_MINUTES = env.int("CHECKOUT_EXPIRY_MINUTES", default=30)
# Authorise at Checkout and capture when the supplier confirms (`manual`), or charge at once.
CHECKOUT_CAPTURE = env("CHECKOUT_CAPTURE", default="manual")
# An authorisation not captured this long after it was made needs attention (cards: 7 days).
AUTHORIZATION_WARN_HOURS = env.int("AUTHORIZATION_WARN_HOURS", default=120)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=30)
CHECKOUT_RATE_LIMIT = env("CHECKOUT_RATE_LIMIT", default="10/10m")

# Slack. No token means notifications are logged, not sent.
SLACK_BOT_TOKEN = env("SLACK_BOT_TOKEN", default="")
SLACK_CHANNEL_ERRORS = env("SLACK_CHANNEL_ERRORS", default="#errors")
SLACK_CHANNEL_OPS = env("SLACK_CHANNEL_OPS", default="#ops")
SLACK_API_BASE_URL = env("SLACK_API_BASE_URL", default="")

# Feeds.
NIVODA_ENDPOINT = env("NIVODA_ENDPOINT", default="")
NIVODA_USERNAME = env("NIVODA_USERNAME", default="")
NIVODA_PASSWORD = env("NIVODA_PASSWORD", default="")
NIVODA_DESTINATION_ID = env("NIVODA_DESTINATION_ID", default="")
NIVODA_TIMEOUT_SECONDS = env.float("NIVODA_TIMEOUT_SECONDS", default=20.0)
FEED_USD_TO_NZD_RATE = Decimal(env("FEED_USD_TO_NZD_RATE", default="1.68"))
FEED_MARKUP_PERCENT = Decimal(env("FEED_MARKUP_PERCENT", default="25"))
FEED_MARKUP_PERCENT_LAB_GROWN = Decimal(env("FEED_MARKUP_PERCENT_LAB_GROWN", default="40"))
PRICE_ROUNDING_NZD = Decimal(env("PRICE_ROUNDING_NZD", default="1"))
DEMO_FEED_FAIL_ORDERS = env.bool("DEMO_FEED_FAIL_ORDERS", default=False)

# Backups (`manage.py backup_database`, nightly from deploy/systemd/diamonds-backup.timer):
# pg_dump's custom format into BACKUP_DIR, each kept BACKUP_KEEP_DAYS days.
BACKUP_DIR = env("BACKUP_DIR", default="/var/lib/diamonds/backups")
BACKUP_KEEP_DAYS = env.int("BACKUP_KEEP_DAYS", default=14)

# Background work: Django's Tasks framework (django-tasks backport + django-tasks-db).
TASKS_BACKEND = env("TASKS_BACKEND", default="immediate")
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
            "dummy": "django_tasks.backends.dummy.DummyBackend",
        }.get(TASKS_BACKEND, TASKS_BACKEND),
    }
}

# Hosts the feeds' photos and videos come from, allowed by the Content-Security-Policy
# (img-src, media-src), e.g. https://images.nivoda.net. The default allows any https host.
MEDIA_HOSTS = env_list("MEDIA_HOSTS", default=["https:"])

# Content pages (shipping, returns, …) are flatpages, edited in the admin.
INSTALLED_APPS += ["django.contrib.sites", "django.contrib.flatpages"]
SITE_ID = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint (the invoice PDF) logs each step of every render at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------- the shopper after paying
# Accounts, email, shipping and the store's contact address (SPEC Part 2).
INSTALLED_APPS += ["accounts"]
# Pages answered to a logged-in person: Cache-Control: private, no-store.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "accounts.middleware.PrivatePagesMiddleware",
)

# Email through Django's mail framework. EMAIL_URL, e.g. smtp+tls://user:pass@host:587;
# default: the console backend under DEBUG, an SMTP server on localhost:25 otherwise.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
vars().update({name: value for name, value in EMAIL_CONFIG.items() if value is not None})
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds; a stuck server never hangs us
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Diamond Store <orders@example.com>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
STORE_CONTACT_EMAIL = env("STORE_CONTACT_EMAIL", default="help@example.com")

# The seller on every tax invoice (orders/invoices.py): its name, its address (comma-separated
# lines) and its GST number. With DEBUG off the system checks (orders/checks.py) refuse a
# missing or malformed GST number and an empty name or address; `make run` shows demo values.
STORE_NAME = env("STORE_NAME", default="Diamond Store")
STORE_ADDRESS = env(
    "STORE_ADDRESS", default="1 Example Street, Auckland 1010, New Zealand" if DEBUG else ""
)
GST_NUMBER = env("GST_NUMBER", default="49-091-850" if DEBUG else "")

# From confirmed to delivered (orders/fulfilment.py): the carriers ops ship with (code → name
# and tracking URL with `{number}`), how long after delivery a return may be asked for, and
# how long the stone may take from the supplier to us before it is overdue.
CARRIERS = env.json(
    "CARRIERS",
    default={
        "nzpost": {
            "name": "NZ Post",
            "tracking_url": "https://www.nzpost.co.nz/tools/tracking/item/{number}",
        },
        "courierpost": {
            "name": "CourierPost",
            "tracking_url": "https://trackandtrace.courierpost.co.nz/search/{number}",
        },
    },
)
RETURN_DAYS = env.int("RETURN_DAYS", default=30)
SUPPLIER_DAYS = env.int("SUPPLIER_DAYS", default=7)

# Log in with an email address (any case) or a username.
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailOrUsernameBackend"]
# Failed log-ins (the shop's form and the admin's) per account and address, per account, and
# per address, in Django's cache (accounts/throttle.py).
LOGIN_FAILURE_LIMIT = env("LOGIN_FAILURE_LIMIT", default="5/15m")
LOGIN_FAILURE_LIMIT_PER_ACCOUNT = env("LOGIN_FAILURE_LIMIT_PER_ACCOUNT", default="20/15m")
LOGIN_FAILURE_LIMIT_PER_IP = env("LOGIN_FAILURE_LIMIT_PER_IP", default="50/15m")
# Account mails (sign-up confirmation, "you have an account", password reset) per address
# and kind, counted in the outbox.
ACCOUNT_EMAIL_LIMIT = env("ACCOUNT_EMAIL_LIMIT", default="3/1h")
# Proxies whose X-Real-IP names the shopper's address (deploy/'s nginx, on the same host).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])

# Countries Stripe Checkout accepts a shipping address in (ISO 3166-1 alpha-2, checked by
# payments.E007/E008).
SHIPPING_COUNTRIES = [code.upper() for code in env_list("SHIPPING_COUNTRIES", default=["NZ"])]

# ---------------------------------------------------------------- running as a fleet
# (monitoring/: the shared cache, health, metrics, structured logs, error reports)
from monitoring.cache import cache_settings  # noqa: E402
from monitoring.errors import sentry_init  # noqa: E402
from monitoring.logs import logging_config  # noqa: E402

INSTALLED_APPS += ["monitoring"]
# First, so every later middleware's and view's log lines carry the request id.
MIDDLEWARE.insert(0, "monitoring.logs.RequestIdMiddleware")

# Everything that must agree across processes (filter choices and their clearing after an
# import, throttles, rate limits) goes through this cache. Local memory by default (`make run`
# needs nothing); production: redis://127.0.0.1:6379/0. A Redis outage degrades, never fails.
CACHES = {"default": cache_settings(env.cache_url("CACHE_URL", default="locmemcache://"))}
CACHE_RETRY_SECONDS = env.int("CACHE_RETRY_SECONDS", default=5)

# Health: /healthz?deep=1 and `manage.py check_health`; the same facts raise WORKER_STALLED.
HEALTH_TASK_QUEUE_MAX_AGE_SECONDS = env.int("HEALTH_TASK_QUEUE_MAX_AGE_SECONDS", default=300)
HEALTH_OUTBOX_MAX_AGE_SECONDS = env.int("HEALTH_OUTBOX_MAX_AGE_SECONDS", default=900)
HEALTH_CACHE_REQUIRED = env.bool("HEALTH_CACHE_REQUIRED", default=False)

# Metrics: /metrics (Prometheus) answers only with `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# The load balancer's and Prometheus' calls reach gunicorn directly, without the proxy's
# X-Forwarded-Proto: no HTTPS redirect for them (the token still applies).
SECURE_REDIRECT_EXEMPT += [r"^metrics$"]

# Errors: sentry-sdk with the Django integration when a DSN is set (PII off, secrets scrubbed).
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
sentry_init(
    dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE
)

# Logs: readable text by default; LOG_FORMAT=json for one JSON object per line, with the
# request id, order number and Stripe event id as fields where known.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = logging_config(LOGGING, log_format=LOG_FORMAT)
