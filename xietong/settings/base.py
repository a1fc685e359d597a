"""Settings shared by every deployment; the embedded default (SQLite, one process).

Everything an operator may change is read from an environment variable
(see docs/operator-guide.md). Secrets never live in the database: the PII key
is read from ``XIETONG_PII_KEY`` or from a key file under ``XIETONG_KEY_DIR``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("XIETONG_VAR_DIR", BASE_DIR / "var"))
# ``xietong node init`` writes a node's identity to var/node.env; the environment still wins.
load_dotenv(VAR_DIR / "node.env", override=False)
KEY_DIR = Path(os.environ.get("XIETONG_KEY_DIR", VAR_DIR / "keys"))


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes", "on" mean yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("XIETONG_DEBUG", False)
SECRET_KEY = os.environ.get("XIETONG_SECRET_KEY", "insecure-embedded-default-change-me")
ALLOWED_HOSTS = env_list("XIETONG_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("XIETONG_CSRF_TRUSTED_ORIGINS")

# The identity of this node (one deployment per region, ARCHITECTURE.md §1).
XIETONG_NODE_ID = os.environ.get("XIETONG_NODE_ID", "bj")
XIETONG_NODE_NAME = os.environ.get("XIETONG_NODE_NAME", "北京节点")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "axes",
    "csp",
    "django_prometheus",
    "xietong.core",
    "xietong.membership",
    "xietong.exchange",
    "xietong.insurance",
    "xietong.inspection",
    "xietong.services",
    "xietong.portal",
    "xietong.demo",
    # After xietong.core, whose ``db_worker`` (the worker that survives a database restart and fails
    # the jobs of a worker that died) takes the place of django-tasks-db's command of that name.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "xietong.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "xietong.urls"
WSGI_APPLICATION = "xietong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "xietong" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xietong.core.context_processors.navigation",
            ],
        },
    },
]

# SQLite (WAL) is the embedded default; DATABASE_URL selects PostgreSQL in production.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'xietong.sqlite3'}",
        # Persistent connections: opening one per request costs more than most requests.
        conn_max_age=int(os.environ.get("XIETONG_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
elif env_bool("XIETONG_DB_POOL", True):
    # A psycopg pool per process (ADR 007): a request takes a connection and gives it back, without
    # the per-request health-check round trip that persistent connections need.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("XIETONG_DB_POOL_MAX", "4")),
        "timeout": 10,
        "max_lifetime": 600,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "xietong.core.permissions.ScopedPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failures (django-axes): 5 wrong passwords lock the account for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("XIETONG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("XIETONG_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Rate limits (xietong.core.ratelimit): per scope, per key kind, "COUNT/[N]UNIT" (s, m, h, d).
# Counted in the "ratelimit" cache, shared by every process of a node: the database cache (``xietong
# migrate`` creates its table); tests use the local-memory cache.
XIETONG_RATE_LIMITS = {
    "join": {"address": os.environ.get("XIETONG_RATE_JOIN", "30/h"), "id_number": "10/h"},
    "join_status": {"address": os.environ.get("XIETONG_RATE_JOIN_STATUS", "30/h"), "id_number": "20/h"},
    # The look-up by ID number and phone for a lost status link, and card numbers typed at a desk.
    "join_find": {"address": os.environ.get("XIETONG_RATE_JOIN_FIND", "20/h"), "id_number": "10/h"},
    "desk_card_number": {"desk": os.environ.get("XIETONG_RATE_DESK_CARD_NUMBER", "60/h"), "card": "5/h"},
    "login": {"address": os.environ.get("XIETONG_RATE_LOGIN", "30/10m"), "username": "20/10m"},
    # The member portal's one-time codes: codes sent, and codes tried (issue 14 §4).
    "portal_code": {"address": os.environ.get("XIETONG_RATE_PORTAL_CODE", "20/h"), "phone": "5/h"},
    "portal_verify": {"address": os.environ.get("XIETONG_RATE_PORTAL_VERIFY", "30/h"), "phone": "10/h"},
}
# Behind a reverse proxy every request comes from the proxy: name the header it sets (HTTP_X_REAL_IP).
XIETONG_CLIENT_ADDRESS_HEADER = os.environ.get("XIETONG_CLIENT_ADDRESS_HEADER", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "xietong_ratelimit"},
}
XIETONG_RATE_LIMIT_CACHE = "ratelimit"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "xietong" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("XIETONG_STATIC_ROOT", VAR_DIR / "static"))
NODE_MODULES = BASE_DIR / "node_modules"
# Third-party assets come from package-lock.json (npm ci), never from a CDN at run time.
STATICFILES_DIRS = [
    BASE_DIR / "xietong" / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/jsqr", NODE_MODULES / "jsqr" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Background tasks (imports, comparison runs): stored in the database and run by ``xietong db_worker``,
# which ``xietong serve`` starts beside the web server on an embedded node.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
XIETONG_MAX_UPLOAD_MB = int(os.environ.get("XIETONG_MAX_UPLOAD_MB", "200"))
# Exports (issue 16): a list of more rows than this is written by a background job with progress,
# offered for download for XIETONG_EXPORT_KEEP_HOURS, then removed.
XIETONG_EXPORT_SYNC_ROWS = int(os.environ.get("XIETONG_EXPORT_SYNC_ROWS", "5000"))
XIETONG_EXPORT_KEEP_HOURS = int(os.environ.get("XIETONG_EXPORT_KEEP_HOURS", "24"))
# A long list's total is counted once per filter and kept this many seconds (core.pagination).
XIETONG_LIST_COUNT_SECONDS = int(os.environ.get("XIETONG_LIST_COUNT_SECONDS", "30"))

# Content Security Policy: scripts and styles only from this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "xietong.core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "协同 Xietong API",
    "DESCRIPTION": "工会与人社部门跨区域协同平台的 REST API。所有数据按账号的组织范围限定。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}


# Personal-data protection (ARCHITECTURE.md §3.5). The master key never enters the database.
XIETONG_PII_KEY = os.environ.get("XIETONG_PII_KEY", "")
XIETONG_PII_KEY_FILE = KEY_DIR / "pii.key"
XIETONG_PII_KEY_AUTOCREATE = True  # embedded default: create key files on first use
# The node's Ed25519 signing key (card tokens, exchange messages); its public key is published.
XIETONG_NODE_SIGNING_KEY = os.environ.get("XIETONG_NODE_SIGNING_KEY", "")
XIETONG_NODE_SIGNING_KEY_FILE = KEY_DIR / "node-signing.key"
# The exchange between nodes (ADR 008). The hub signs the region group's node registry.
XIETONG_NODE_ENDPOINT = os.environ.get("XIETONG_NODE_ENDPOINT", "http://127.0.0.1:8000")
XIETONG_REGION_CODE = os.environ.get("XIETONG_REGION_CODE", "110000")
# The code of the HRSS office that incoming insurance transfers go to when the request names none
# (issue 11, defect 8); empty: the HRSS bureau nearest the root of the organisation tree.
XIETONG_HRSS_OFFICE = os.environ.get("XIETONG_HRSS_OFFICE", "")
XIETONG_HUB_NODE_ID = os.environ.get("XIETONG_HUB_NODE_ID", XIETONG_NODE_ID)
XIETONG_HUB_ENDPOINT = os.environ.get("XIETONG_HUB_ENDPOINT", "")
XIETONG_HUB_PUBLIC_KEY = os.environ.get("XIETONG_HUB_PUBLIC_KEY", "")
XIETONG_EXCHANGE_MAX_BYTES = int(os.environ.get("XIETONG_EXCHANGE_MAX_BYTES", str(1024 * 1024)))
XIETONG_EXCHANGE_SKEW_SECONDS = int(os.environ.get("XIETONG_EXCHANGE_SKEW_SECONDS", "300"))
XIETONG_EXCHANGE_RETRY_MAX_SECONDS = int(os.environ.get("XIETONG_EXCHANGE_RETRY_MAX_SECONDS", "300"))
XIETONG_EXCHANGE_BATCH = int(os.environ.get("XIETONG_EXCHANGE_BATCH", "50"))  # messages per delivery
XIETONG_EXCHANGE_REGISTRY_SECONDS = float(os.environ.get("XIETONG_EXCHANGE_REGISTRY_SECONDS", "60"))
XIETONG_EXCHANGE_TIMEOUT_SECONDS = float(os.environ.get("XIETONG_EXCHANGE_TIMEOUT_SECONDS", "10"))
# Files carried by exchange messages (ADR 017): where they are kept, the largest one this node sends
# or accepts, the chunk size of an upload, how often a file is restarted after a refusal, and how
# long a received message waits for its files before it is rejected.
XIETONG_EXCHANGE_BLOB_DIR = Path(os.environ.get("XIETONG_EXCHANGE_BLOB_DIR", VAR_DIR / "exchange" / "blobs"))
XIETONG_EXCHANGE_MAX_FILE_MB = float(os.environ.get("XIETONG_EXCHANGE_MAX_FILE_MB", "2048"))
XIETONG_EXCHANGE_CHUNK_MB = float(os.environ.get("XIETONG_EXCHANGE_CHUNK_MB", "8"))
XIETONG_EXCHANGE_FILE_ATTEMPTS = int(os.environ.get("XIETONG_EXCHANGE_FILE_ATTEMPTS", "5"))
XIETONG_EXCHANGE_FILE_WAIT_HOURS = float(os.environ.get("XIETONG_EXCHANGE_FILE_WAIT_HOURS", "72"))
# Retention of the message log (issue 13 §5): the body and files of a message finished more than this
# many days ago are removed by `xietong exchange prune` (and the exchange worker, once a day); its
# hash, chain link and signature stay, so `xietong exchange verify` still proves the chain.
XIETONG_EXCHANGE_RETENTION_DAYS = float(os.environ.get("XIETONG_EXCHANGE_RETENTION_DAYS", "90"))
# The operator page warns (and `selectors.stale_queues` reports) when a peer's oldest pending message
# is older than this.
XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES = int(os.environ.get("XIETONG_EXCHANGE_QUEUE_ALERT_MINUTES", "30"))
# Eligibility certification (ADR 009): the region group's comparison key (every node of the group
# holds the same one, nobody else).
XIETONG_GROUP_KEY = os.environ.get("XIETONG_GROUP_KEY", "")
XIETONG_GROUP_KEY_FILE = Path(os.environ.get("XIETONG_GROUP_KEY_FILE", KEY_DIR / "group-match.key"))
# Working days each step of a social-insurance transfer may take (国办发〔2009〕66号: 15).
XIETONG_TRANSFER_STEP_WORKING_DAYS = int(os.environ.get("XIETONG_TRANSFER_STEP_WORKING_DAYS", "15"))
# ... and at most end to end (国办发〔2009〕66号: 45).
XIETONG_TRANSFER_TOTAL_WORKING_DAYS = int(os.environ.get("XIETONG_TRANSFER_TOTAL_WORKING_DAYS", "45"))
# The first month a transfer's contribution record may hold, per scheme (unverified: the national
# reforms that began individual contributions: pension 国发〔1991〕33号, unemployment 国发〔1986〕77号,
# medical 国发〔1998〕44号; local schemes may have begun later). Earlier lines are refused.
XIETONG_TRANSFER_SCHEME_SINCE = {
    "pension": os.environ.get("XIETONG_TRANSFER_PENSION_SINCE", "1991-07"),
    "unemployment": os.environ.get("XIETONG_TRANSFER_UNEMPLOYMENT_SINCE", "1986-10"),
    "medical": os.environ.get("XIETONG_TRANSFER_MEDICAL_SINCE", "1998-12"),
}
# 12351 service requests: attachments to a request's thread (issue 14 §2).
XIETONG_SERVICES_ATTACHMENT_MAX_MB = int(os.environ.get("XIETONG_SERVICES_ATTACHMENT_MAX_MB", "10"))
XIETONG_SERVICES_ATTACHMENT_TYPES = (
    ".pdf",
    ".jpg",
    ".jpeg",
    ".png",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".txt",
)
# Ratings at or below this figure call for a follow-up call (回访).
XIETONG_SERVICES_FOLLOWUP_BELOW = int(os.environ.get("XIETONG_SERVICES_FOLLOWUP_BELOW", "2"))
# The member portal (掌上工会): sign-in by phone and a one-time code sent by SMS (issue 14 §4).
# XIETONG_SMS_BACKEND: "xietong.portal.sms.FileSender" (writes each message to XIETONG_SMS_FILE and
# the log: demo and tests) or "xietong.portal.sms.HttpSender" (POSTs to the SMS gateway at
# XIETONG_SMS_URL with XIETONG_SMS_KEY as the bearer key; XIETONG_SMS_SIGNATURE heads each text).
XIETONG_SMS_BACKEND = os.environ.get("XIETONG_SMS_BACKEND", "xietong.portal.sms.FileSender")
XIETONG_SMS_FILE = Path(os.environ.get("XIETONG_SMS_FILE", VAR_DIR / "sms" / "outbox.log"))
XIETONG_SMS_URL = os.environ.get("XIETONG_SMS_URL", "")
XIETONG_SMS_KEY = os.environ.get("XIETONG_SMS_KEY", "")
XIETONG_SMS_SIGNATURE = os.environ.get("XIETONG_SMS_SIGNATURE", "【协同工会】")
XIETONG_SMS_TIMEOUT = float(os.environ.get("XIETONG_SMS_TIMEOUT", "5"))
XIETONG_PORTAL_CODE_TTL = int(os.environ.get("XIETONG_PORTAL_CODE_TTL", "300"))  # seconds a code is valid
XIETONG_PORTAL_CODE_ATTEMPTS = int(os.environ.get("XIETONG_PORTAL_CODE_ATTEMPTS", "5"))  # tries per code
XIETONG_PORTAL_SESSION_SECONDS = int(os.environ.get("XIETONG_PORTAL_SESSION_SECONDS", str(30 * 86400)))
XIETONG_CARD_TOKEN_TTL = int(os.environ.get("XIETONG_CARD_TOKEN_TTL", "300"))  # seconds a card QR stays valid

# The node's processes (issue 15 §1, xietong.core.processes): each beats at most every
# XIETONG_HEARTBEAT_SECONDS; /health/ answers 503 when one of XIETONG_HEALTH_PROCESSES (default: the
# task worker, and the exchange worker on a region group's node) has not beaten for
# XIETONG_HEALTH_STALE_SECONDS. The embedded supervisor waits at most this long between restarts.
XIETONG_HEARTBEAT_SECONDS = float(os.environ.get("XIETONG_HEARTBEAT_SECONDS", "5"))
XIETONG_HEALTH_STALE_SECONDS = float(os.environ.get("XIETONG_HEALTH_STALE_SECONDS", "60"))
XIETONG_HEALTH_PROCESSES = env_list("XIETONG_HEALTH_PROCESSES")
XIETONG_SUPERVISOR_MAX_BACKOFF = float(os.environ.get("XIETONG_SUPERVISOR_MAX_BACKOFF", "60"))
# Prometheus metrics at /metrics (xietong.core.metrics): only for the addresses or networks listed
# here, or with "Authorization: Bearer XIETONG_METRICS_TOKEN"; nobody when both are empty.
XIETONG_METRICS_ALLOWED = env_list("XIETONG_METRICS_ALLOWED", "127.0.0.1,::1")
XIETONG_METRICS_TOKEN = os.environ.get("XIETONG_METRICS_TOKEN", "")
PROMETHEUS_EXPORT_MIGRATIONS = False

# Logs go to the console (the service manager keeps them): plain text, or one JSON object a line
# when XIETONG_LOG_FORMAT=json (the production default) with the time, level, logger, message,
# process role and request id.
XIETONG_LOG_FORMAT = os.environ.get("XIETONG_LOG_FORMAT", "text")


def logging_config(log_format: str) -> dict[str, object]:
    """The LOGGING setting for ``log_format`` ("text" or "json")."""
    json_formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "{asctime}{levelname}{name}{message}{process_name}{request_id}",
        "style": "{",
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        "rename_fields": {
            "asctime": "time",
            "levelname": "level",
            "name": "logger",
            "process_name": "process",
        },
        "json_ensure_ascii": False,
    }
    text_formatter = {"format": "%(asctime)s %(levelname)s [%(process_name)s] %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "xietong.core.logs.ContextFilter"}},
        "formatters": {"json": json_formatter, "text": text_formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "json" if log_format == "json" else "text",
            }
        },
        "root": {"handlers": ["console"], "level": os.environ.get("XIETONG_LOG_LEVEL", "INFO")},
        "loggers": {"axes": {"level": "WARNING"}},
    }


LOGGING = logging_config(XIETONG_LOG_FORMAT)

# Lock-out is per account (the issue: "locks the account"); per-address rate limiting belongs to the proxy.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
