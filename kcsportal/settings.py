"""KCS Portal settings, read from environment variables.

Every variable is documented in README.md. Defaults are for development:
SQLite under var/, no Redis, keys generated once into var/. With DEBUG off the
secrets must come from the environment and the security settings tighten.
"""

import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from . import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.text("KCS_VAR_DIR", str(BASE_DIR / "var")))

# DEBUG=1 is development mode: keys generated into var/, local hosts, static files
# served from the source tree, no HTTPS. Django's own DEBUG (its technical error
# pages) follows it unless DEBUG_ERROR_PAGES=0, which keeps the conveniences but
# answers errors with the portal's 404/403/500 pages, as in production (`make demo`).
DEVELOPMENT = env.flag("DEBUG", default=True)
DEBUG = DEVELOPMENT and env.flag("DEBUG_ERROR_PAGES", default=True)

SECRET_KEY = env.secret(
    "SECRET_KEY", dev_file=VAR_DIR / "secret_key", allow_generate=DEVELOPMENT, make=env.random_key
)
# Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = env.secret(
    "FIELD_ENCRYPTION_KEY",
    dev_file=VAR_DIR / "field_encryption_key",
    allow_generate=DEVELOPMENT,
    make=lambda: Fernet.generate_key().decode(),
).split(",")

ALLOWED_HOSTS = env.words("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEVELOPMENT else "")
CSRF_TRUSTED_ORIGINS = env.words("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "csp",
    "axes",
    "apps.core",
    "apps.tenancy",
    "apps.kube",
    "apps.clusters",
    "apps.namespaces",
    "apps.configs",
    "apps.storage",
    "apps.workloads",
    "apps.networking",
    "apps.applications",
    "apps.logs",
    "apps.events",
    "apps.monitoring",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.core.middleware.NullCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.tenancy.middleware.CurrentProjectMiddleware",
    # Last, as django-axes requires: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kcsportal.urls"
WSGI_APPLICATION = "kcsportal.wsgi.application"

# Django's form renderer with <select> rendered in Python (apps/core/renderers.py).
FORM_RENDERER = "apps.core.renderers.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.text("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection is checked before a request reuses it (after a restart).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so a Celery worker thread in the tests sees the same
    # test database as the test itself; one per process, so test runs can overlap.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    # IMMEDIATE: a transaction takes SQLite's write lock when it begins, so concurrent
    # writers wait their turn (timeout) instead of failing with "database is locked"
    # when a read lock cannot be upgraded (e.g. two scale-outs of one cluster at once).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # Write-ahead logging: readers do not wait for a writer nor it for them, which
        # the web workers, Celery and beat sharing one file need. NORMAL is safe in
        # WAL mode (a power cut may lose the last commits, never corrupt the file).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.text("REDIS_URL")
# Parallel test processes (pytest-xdist's gw0, gw1, ...) each take their own Redis
# database, counting down from the one given, so their queues, locks and caches stay
# apart; the processes a test starts inherit it (marked, so it is not moved again).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _worker.startswith("gw") and os.environ.get("KCS_XDIST_REDIS") != _worker:
    _base, _slash, _db = REDIS_URL.rpartition("/")
    if _db.isdigit():
        REDIS_URL = f"{_base}/{(int(_db) - int(_worker[2:])) % 16}"
        os.environ["REDIS_URL"], os.environ["KCS_XDIST_REDIS"] = REDIS_URL, _worker
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTHENTICATION_BACKENDS = [
    "apps.core.throttle.ThrottledAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock a username+IP pair out after repeated failures ...
AXES_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env.integer("LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# ... and every sign-in from an address after this many failures there, whatever the
# usernames (apps/core/throttle.py); 0 turns it off.
LOGIN_ADDRESS_FAILURE_LIMIT = env.integer("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous sees nothing

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.text("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.text("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEVELOPMENT

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.api.filtering.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KCS Portal API",
    "DESCRIPTION": "Clusters, tenants and applications of KCS Portal. "
    "Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API's shape is for signed-in users and token holders, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.document_errors",
    ],
    # Several models have a "status"; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "ClusterStatusEnum": "apps.clusters.models.Cluster.Status",
        "OperationStatusEnum": "apps.core.models.Operation.Status",
        "WizardProbeTypeEnum": "apps.workloads.serializers.PROBE_TYPES",
        "WizardHookTypeEnum": "apps.workloads.serializers.HOOK_TYPES",
        "AccessModeEnum": "apps.workloads.serializers.ACCESS_MODES",
    },
}

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport,
# so `make demo` runs a real worker and beat with no server to install.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
# Operations record what tasks did; the result store is only Redis when there is one.
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = not REDIS_URL
if not REDIS_URL:
    _queue_dir = VAR_DIR / "celery" / "queue"
    # The filesystem transport expects its folders to exist, in every process.
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
# With acks_late Redis redelivers the task of a worker that died, but only after its
# visibility timeout, and the filesystem transport not at all: the reaper (below)
# resumes such operations long before; a late redelivery of the older attempt is ignored.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.flag("CELERY_TASK_ALWAYS_EAGER")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Inventory sync and health of every cluster (Kubernetes is the source of truth).
    "sync-clusters": {
        "task": "clusters.sync_all",
        "schedule": env.integer("CLUSTER_SYNC_SECONDS", 60),
    },
    "logs-retention": {"task": "logs.drop_expired", "schedule": 3600},
    # Operations whose worker died are resumed, or failed with the reason (apps/core/operations).
    "reap-operations": {
        "task": "core.reap_operations",
        "schedule": env.integer("OPERATION_REAPER_SECONDS", 30),
    },
    "events-retention": {"task": "events.prune", "schedule": 3600},
    # StatefulSet and DaemonSet rollouts past the portal's progress deadline (apps/workloads).
    "workload-deadlines": {"task": "workloads.mark_stuck", "schedule": 30},
    # The embedded metrics store (apps/monitoring): sample, then fold and prune.
    "monitoring-sample": {
        "task": "monitoring.sample_all",
        "schedule": env.integer("MONITORING_RAW_STEP", 60),
    },
    "monitoring-downsample": {"task": "monitoring.downsample", "schedule": 600},
}
# A running operation's worker touches its heartbeat this often; one silent for
# OPERATION_HEARTBEAT_TIMEOUT seconds (or pending that long past
# OPERATION_PENDING_TIMEOUT) is resumed, at most OPERATION_MAX_RESUMES times.
OPERATION_HEARTBEAT_SECONDS = env.integer("OPERATION_HEARTBEAT_SECONDS", 10)
OPERATION_HEARTBEAT_TIMEOUT = env.integer("OPERATION_HEARTBEAT_TIMEOUT", 60)
OPERATION_PENDING_TIMEOUT = env.integer("OPERATION_PENDING_TIMEOUT", 300)
OPERATION_MAX_RESUMES = env.integer("OPERATION_MAX_RESUMES", 3)
# A transient failure is retried after this many seconds, doubling each time (at most 60).
OPERATION_RETRY_SECONDS = env.number("OPERATION_RETRY_SECONDS", 2)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

KUBESIM_URL = env.text("KUBESIM_URL", "http://127.0.0.1:6443")

# Informer replicas elect a leader per cluster with Leases in the Kubernetes the portal
# runs in (deploy/). Off: one informer watches every cluster (make demo, compose).
INFORMER_LEADER_ELECTION = env.flag("INFORMER_LEADER_ELECTION")
INFORMER_LEASE_NAMESPACE = env.text("INFORMER_LEASE_NAMESPACE", env.text("POD_NAMESPACE"))
INFORMER_LEASE_KUBECONFIG = env.text("INFORMER_LEASE_KUBECONFIG")  # empty: in-cluster
INFORMER_LEASE_SECONDS = env.integer("INFORMER_LEASE_SECONDS", 15)

# Log centre (apps/logs): where clusters' log shippers send, and the ingest's limits.
# Preparing a cluster deploys fluent-bit, shipping its containers' logs to the portal.
LOGS_SHIPPER = env.flag("LOGS_SHIPPER", True)
LOGS_INGEST_URL = env.text(
    "LOGS_INGEST_URL", f"http://127.0.0.1:{env.text('PORT', '8000')}/logs/ingest/"
)
LOGS_INGEST_MAX_BYTES = env.integer("LOGS_INGEST_MAX_BYTES", 4 * 1024 * 1024)
LOGS_INGEST_LINES_PER_SECOND = env.integer("LOGS_INGEST_LINES_PER_SECOND", 50_000)
LOGS_INGEST_CONCURRENCY = env.integer("LOGS_INGEST_CONCURRENCY", 8)
LOGS_RETENTION_DAYS = env.integer("LOGS_RETENTION_DAYS", 7)
LOGS_EXPORT_MAX_LINES = env.integer("LOGS_EXPORT_MAX_LINES", 10_000)
# A followed container log ends after this long (the client follows again from its last line).
LOGS_FOLLOW_SECONDS = env.integer("LOGS_FOLLOW_SECONDS", 3600)

# Kubernetes events (apps/events): kept this long after they last happened (Kubernetes
# itself drops them after an hour).
EVENTS_RETENTION_DAYS = env.integer("EVENTS_RETENTION_DAYS", 7)

# Monitoring (apps/monitoring): a cluster with a Prometheus URL is charted from it; the
# others from the portal's sampler, which records metrics.k8s.io every RAW_STEP seconds,
# keeps those rows RAW_RETENTION hours, and folds them into COARSE_STEP-second rows
# kept COARSE_RETENTION days.
MONITORING_RAW_STEP = env.integer("MONITORING_RAW_STEP", 60)
MONITORING_RAW_RETENTION_HOURS = env.integer("MONITORING_RAW_RETENTION_HOURS", 24)
MONITORING_COARSE_STEP = env.integer("MONITORING_COARSE_STEP", 600)
MONITORING_COARSE_RETENTION_DAYS = env.integer("MONITORING_COARSE_RETENTION_DAYS", 7)
MONITORING_PROMETHEUS_TIMEOUT = env.integer("MONITORING_PROMETHEUS_TIMEOUT", 10)

# Logging: one JSON object per line on stderr, each carrying the request id
# that follows an operation from the HTTP request into its Celery task.
LOG_LEVEL = env.text("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "apps.core.logging.ContextFilter"},
        "client_errors_once": {"()": "apps.core.logging.ClientErrorsOnce"},
    },
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # 403/404: the request's own log line, no second line, no traceback.
        "django.request": {"filters": ["client_errors_once"]},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

# Content-Security-Policy the portal's own pages satisfy: no inline scripts,
# no inline <style>, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# The CSRF token reaches HTMX through a header set from the page, so the
# cookie itself never needs to be readable by JavaScript.
CSRF_COOKIE_HTTPONLY = True

if not DEVELOPMENT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    # Only for trying the containers over plain HTTP on localhost; keep on otherwise.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.flag("SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.flag("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600)
