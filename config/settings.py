"""Earshot settings: every value comes from the environment with a safe local default.

Local default: SQLite and a filesystem Celery broker under var/, so `make demo` needs no server.
Production: DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://..., DJANGO_SECRET_KEY, DEBUG=0.

Importing these settings never writes: the folders under var/ and the local secret key file
are made by the commands that need them (`python -m config.local_setup`, run by `make demo`,
`make serve` and `make test`; `manage.py serve`; the test run).
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from config.env import (
    cache_config,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
    var_dir,
)
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = var_dir(BASE_DIR)

DEBUG = env_bool("DEBUG", False)
# With DEBUG off only DJANGO_SECRET_KEY counts; a missing one stops start-up with a sentence.
LOCAL_SECRET_KEY_FILE = VAR_DIR / "secret_key"
SECRET_KEY = secret_key(debug=DEBUG, key_file=LOCAL_SECRET_KEY_FILE)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "evaluation",
]

MIDDLEWARE = [
    # Off unless EARSHOT_SERVER_TIMING=1: each response's own wall, CPU and database time.
    "config.middleware.ServerTimingMiddleware",
    # Then: /healthz answers load balancers whatever their Host header or scheme.
    "config.middleware.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The listener's language: the switcher's cookie, else Accept-Language (docs/i18n.md);
    # evaluation.views.language then applies a study's default when neither names one.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.AccountSessionIdleTimeoutMiddleware",
    "config.middleware.ListenerRateLimitMiddleware",
    "evaluation.views.language.ListenerLanguageMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: a locked-out client is refused before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
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

_SQLITE_PATH = VAR_DIR / "earshot.sqlite3"
_DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{_SQLITE_PATH}")
# Seconds a web or worker thread keeps its database connection: on a server database 60 by
# default (a new PostgreSQL backend per request burnt more CPU than the app under load:
# docs/benchmarks.md), with a health check before reuse so a database restart costs one
# reconnect, not a failed request; 0 (a connection per request) for the SQLite file.
_DEFAULT_CONN_MAX_AGE = 0 if _DATABASE_URL.startswith("sqlite") else 60
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", _DEFAULT_CONN_MAX_AGE),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) test database, so a real Celery worker process can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_earshot.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Listener pages speak English and Simplified Chinese (docs/i18n.md: adding a language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice lasts as long as a panelist's session (a listener comes back to an
# unfinished test in the language they picked).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 30
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Media is never served by URL: stimuli go through a view that checks the panelist's trial.
MEDIA_URL = None

# Media storage: local disk under MEDIA_ROOT, or, when AWS_STORAGE_BUCKET_NAME is set, an
# S3-compatible bucket through django-storages (docs/deploy.md). The bucket stays private:
# listeners get audio only through the checking view, which streams it from storage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty: AWS itself; else e.g. https://minio.internal:9000.
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            # Empty: boto3's own chain (instance role, ~/.aws, AWS_* variables).
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            # A key prefix inside the bucket, e.g. "earshot/media".
            "location": env_str("AWS_LOCATION", ""),
            "default_acl": None,  # the bucket's own (private) policy
            "querystring_auth": True,  # no URL of an object works unsigned
            "file_overwrite": False,  # a name in use gets a suffix, as on local disk
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "") or None,
        },
    }

LOGIN_URL = "admin:login"

# Panelists' sessions (no account) last SESSION_COOKIE_AGE so a listener can resume an
# unfinished test; sessions of logged-in accounts end after EARSHOT_ACCOUNT_SESSION_IDLE_S
# without a request (config.middleware.AccountSessionIdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 30)
EARSHOT_ACCOUNT_SESSION_IDLE_S = env_int("EARSHOT_ACCOUNT_SESSION_IDLE_S", 60 * 60 * 8)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# HTTPS (docs/deploy.md): behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1
# (trusts X-Forwarded-Proto, which the proxy must set), SECURE_SSL_REDIRECT=1 and
# SECURE_HSTS_SECONDS=31536000. /healthz stays reachable over plain HTTP for load balancers
# (config.middleware.HealthzMiddleware answers it before the redirect).
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy (django-csp): scripts only from our own static files, no inline
# script anywhere; <style> elements carry the per-response nonce. Style *attributes* stay
# allowed (style-src-attr): the report's matplotlib SVG figures colour every shape with
# one, and an attribute cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Rate limits. The cache holds the counters: local memory by default (each process counts
# on its own), Redis in production (CACHE_URL=redis://…), shared by every web process.
CACHES = {"default": cache_config(env_str("CACHE_URL", "locmem://"))}
# The request header your reverse proxy sets to the client's address (e.g. X-Real-IP);
# empty: REMOTE_ADDR. Never name a header the proxy does not overwrite (clients could forge it).
EARSHOT_CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
# A Server-Timing header on every response (app, cpu and db ms; config.middleware): for
# benchmarks (benchmarks/load.py), off in production (it tells clients how long work took).
EARSHOT_SERVER_TIMING = env_bool("EARSHOT_SERVER_TIMING", False)
# Listener writes, per client address (config.middleware.ListenerRateLimitMiddleware).
EARSHOT_RATE_LIMITS = {
    "listener:listen": env_str("RATE_LIMIT_JOIN", "30/m"),
    "listener:headphones": env_str("RATE_LIMIT_HEADPHONES", "30/m"),
    "listener:answer": env_str("RATE_LIMIT_ANSWERS", "120/m"),
    "listener:resume": env_str("RATE_LIMIT_RESUME", "10/m"),
}
# Admin login lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# username, or from one address, further logins are refused (429) for the cool-off time.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["evaluation.api.permissions.IsResearcher"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per account (token or session user); anonymous callers are refused anyway.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "600/min"),
        "anon": env_str("API_THROTTLE_ANON", "30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Earshot API",
    "DESCRIPTION": "Researcher API: studies, results, exports and jobs of blind A/B listening tests.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page are for researchers, like the API itself.
    "SERVE_PERMISSIONS": ["evaluation.api.permissions.IsResearcher"],
    # Swagger UI assets ship in drf-spectacular-sidecar: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: the embedded default broker needs no server (files under var/celery).
_CELERY_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folders themselves are made by config.local_setup.local_folders_ensure.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_DIR / "out"),
        "data_folder_out": str(_CELERY_DIR / "out"),
        "data_folder_processed": str(_CELERY_DIR / "processed"),
        "store_processed": False,
        # kombu's default control folder is ./control relative to the working directory.
        "control_folder": str(_CELERY_DIR / "control"),
    }
# A task is acknowledged only when it ends, and a task whose worker process died is put
# back on the queue: another worker re-runs it (jobs are idempotent, services/jobs.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# E-mail (personal invites, docs/panels.md): printed on the console unless a real backend is
# configured, e.g. EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Earshot <earshot@localhost>")

EARSHOT = {
    # Reservation of a trial for one panelist, in seconds; an abandoned trial returns to the pool.
    "RESERVATION_S": env_int("EARSHOT_RESERVATION_S", 60 * 60),
    # A new reservation is short (FIRST_RESERVATION_S) and grows to RESERVATION_S only on
    # real activity (the trial's audio fetched), so idle joins cannot hold slots for long.
    "FIRST_RESERVATION_S": env_int("EARSHOT_FIRST_RESERVATION_S", 3 * 60),
    # A reservation with no activity at all for IDLE_GRACE_S may be taken by a listener who
    # needs the slot (bots that join and never listen hold nothing for long).
    "IDLE_GRACE_S": env_int("EARSHOT_IDLE_GRACE_S", 30),
    # Trials reserved at once by one invite's listeners (Invite.max_open_reservations wins);
    # past it, the oldest reservation that never saw activity is released.
    "INVITE_OPEN_RESERVATIONS": env_int("EARSHOT_INVITE_OPEN_RESERVATIONS", 400),
    # A failed screening is remembered in a signed cookie for this long (seconds).
    "SCREENED_OUT_COOKIE_S": env_int("EARSHOT_SCREENED_OUT_COOKIE_S", 60 * 60 * 24 * 90),
    "PUBLIC_URL": env_str("EARSHOT_PUBLIC_URL", "http://127.0.0.1:8000"),
    # A lab's own model server for the "generate tracks" job (system "http"); empty = off.
    "GENERATION_HTTP_URL": env_str("EARSHOT_GENERATION_HTTP_URL", ""),
    "GENERATION_HTTP_SYSTEM": env_str("EARSHOT_GENERATION_HTTP_SYSTEM", "External model (HTTP)"),
    "GENERATION_HTTP_TIMEOUT_S": env_int("EARSHOT_GENERATION_HTTP_TIMEOUT_S", 120),
    # A running job's worker writes a heartbeat every JOB_HEARTBEAT_S seconds; a running job
    # without one for JOB_STALE_S seconds is shown as stale (its worker died) and can be
    # cancelled.
    "JOB_HEARTBEAT_S": env_int("EARSHOT_JOB_HEARTBEAT_S", 10),
    "JOB_STALE_S": env_int("EARSHOT_JOB_STALE_S", 120),
    # The trial page reserves the next trial once the current one may be answered and
    # downloads and decodes its audio ahead, so the next trial plays at once after submit.
    "LISTENER_PREFETCH": env_bool("EARSHOT_LISTENER_PREFETCH", True),
    # How long the browser may keep a trial's (or a check sound's) audio: a reload within a
    # trial does not download it again. Private: the URLs are per-listener and unguessable.
    "LISTENER_AUDIO_MAX_AGE_S": env_int("EARSHOT_LISTENER_AUDIO_MAX_AGE_S", 60 * 60 * 24),
}

# JSON lines on stderr (LOG_FORMAT=plain for people), listener tokens scrubbed from paths.
LOGGING = logging_config(
    level=env_str("LOG_LEVEL", "WARNING"), json_lines=env_str("LOG_FORMAT", "json") == "json"
)
