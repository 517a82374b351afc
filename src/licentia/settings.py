"""Licentia settings, all from the environment (see README.md, "Configuration")."""

import os
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from licentia.secret_key import SECRET_KEY_FILENAME, read_secret_key_file

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("LICENTIA_DATA_DIR", "var")).resolve()
DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY") or read_secret_key_file(DATA_DIR)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is off, so Licentia refuses to start. "
            "Set the SECRET_KEY environment variable, or run `licentia init` once to generate "
            f"the key file {DATA_DIR / SECRET_KEY_FILENAME}."
        )
    SECRET_KEY = "insecure-debug-only-" + str(DATA_DIR)
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

BASE_URL = os.environ.get("LICENTIA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
_base_host = urlsplit(BASE_URL).hostname
if _base_host and _base_host not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_base_host)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS") or [
    f"{urlsplit(BASE_URL).scheme}://{urlsplit(BASE_URL).netloc}"
]

INSTALLED_APPS = [
    # The cabinet comes first so that its templates override the admin theme's.
    "licentia.cabinet",
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "licentia.core",
    "licentia.clients",
    "licentia.catalog",
    "licentia.keys",
    "licentia.licensing",
    "licentia.coupons",
    "licentia.transfer",
    "licentia.notifications",
    "licentia.releases",
    "licentia.webhooks",
    "licentia.statistics",
    "licentia.api",
    "licentia.portal",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before an app with models of its own: the roles get its permissions when that app's
    # migrations are done (core.roles.sync_role_permissions).
    "axes",
    "django_tasks",
    "django_tasks_db",
    # Serves the API docs page's scripts itself, not from a CDN a server may not reach.
    "ninja",
]

MIDDLEWARE = [
    "licentia.core.middleware.RequestLogMiddleware",
    "licentia.core.middleware.ContentSecurityPolicyMiddleware",
    # Outside the rest: whatever they answer under /api/app/ becomes coded JSON.
    "licentia.api.http.JsonRefusalMiddleware",
    "licentia.core.middleware.BodyLimitMiddleware",
    "licentia.core.middleware.QueryNulMiddleware",
    # A call of the application protocol goes on through PROTOCOL_MIDDLEWARE from here.
    "licentia.api.http.ProtocolStackMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "licentia.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]
# What a protected application's call passes after the middleware above: none of the pages'
# sessions, CSRF, sign-in, messages and lockouts, which it never uses and which cost a
# heartbeat an eighth of its CPU time (bench/RESULTS.md, "The protocol's own middleware").
PROTOCOL_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "licentia.api.app_v1.ShortcutMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "licentia.urls"
WSGI_APPLICATION = "licentia.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "admin:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{DATA_DIR / 'licentia.sqlite3'}"
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL cannot be read ({str(error).split('.')[0]}); "
            "use sqlite:///path or postgres://user@host:port/name."
        ) from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on
        # busy_timeout instead of one failing with "database is locked" half-way through.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        config["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
        config["CONN_HEALTH_CHECKS"] = True
        # The protocol's hot statements (core/rawsql.cursor) are prepared on their fifth run in
        # a connection; Django's own queries bind on the client and are never prepared.
        config["OPTIONS"] = {"prepare_threshold": 5, **config.get("OPTIONS", {})}
        if not env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
            # Through PgBouncer in transaction mode before 1.21, a statement prepared on one
            # server connection is unknown on the next: parameters are still bound on the
            # server, in unnamed statements, and queries never run through server-side cursors.
            config["OPTIONS"]["prepare_threshold"] = None
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL names an unsupported database ({config['ENGINE']}); "
            "use sqlite:///path or postgres://user@host:port/name."
        )
    return config


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["licentia.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served from the installed packages, so `serve` needs no collectstatic step;
# set STATIC_ROOT only to collect them for a front web server.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True
# Uploaded files (distribution logos and screenshots) live under the data directory and are
# served by the application itself (licentia.releases.views.media).
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def email_from_env() -> dict:
    url = os.environ.get("EMAIL_URL", "").strip()
    host = os.environ.get("EMAIL_HOST", "").strip()
    if not url and not host:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if not url:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": host,
            "EMAIL_PORT": int(os.environ.get("EMAIL_PORT", "25")),
            "EMAIL_HOST_USER": os.environ.get("EMAIL_HOST_USER", ""),
            "EMAIL_HOST_PASSWORD": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "EMAIL_USE_TLS": env_bool("EMAIL_USE_TLS"),
            "EMAIL_USE_SSL": env_bool("EMAIL_USE_SSL"),
        }
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps", "smtp+tls"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not supported; use smtp://, smtp+tls:// "
            "(STARTTLS), smtps:// (TLS) or console://."
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    default_port = {"smtp": 25, "smtp+tls": 587, "smtps": 465}[parts.scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls" or query.get("tls") == "1",
        "EMAIL_USE_SSL": parts.scheme == "smtps" or query.get("ssl") == "1",
    }


globals().update(email_from_env())
EMAIL_TIMEOUT = 20
# A request body above this is refused (413) before it is read.
MAX_BODY_BYTES = int(os.environ.get("LICENTIA_MAX_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
# Larger bodies allowed on these paths only: the cabinet's import takes a whole file.
BODY_LIMITS_BY_PATH = {
    "/transfer/importbatch/add/": int(
        os.environ.get("LICENTIA_IMPORT_MAX_BYTES", str(64 * 1024 * 1024))
    )
}
# Trial registrations accepted per IP address and hour.
LICENTIA_TRIAL_RATE_LIMIT = int(os.environ.get("LICENTIA_TRIAL_RATE_LIMIT", "20"))
# How long a server process keeps vendor settings and the catalog before reading them again.
PROCESS_CACHE_SECONDS = float(os.environ.get("LICENTIA_PROCESS_CACHE_SECONDS", "5"))

# Sign-in lockout (licentia.core.lockout): after this many failures for one user name, or
# from one address, signing in is refused for the cool-off time.
AXES_FAILURE_LIMIT = int(os.environ.get("LICENTIA_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LICENTIA_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Kept after a success: axes would forget every failure from the address, other user names'
# included, so any account's sign-in would reset the guessing of another's password.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "licentia.core.network.client_ip"
AXES_USERNAME_CALLABLE = "licentia.core.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "licentia.core.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # the cabinet has its own page, under Настройки
AXES_VERBOSE = False

# Where the worker's daily backups go (turned on under Настройки → Настройки вендора).
BACKUP_DIR = Path(os.environ.get("LICENTIA_BACKUP_DIR") or DATA_DIR / "backups").resolve()

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "licentia@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from this server, never inline. 'unsafe-eval' because the cabinet's theme
# (django-unfold 0.91) evaluates its Alpine.js attributes as code; inline styles because its
# templates and Alpine set style attributes. The browser tests fail on any violation.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Browsers keep to https for a year once they have seen the server on it.
SECURE_HSTS_SECONDS = (
    int(os.environ.get("LICENTIA_HSTS_SECONDS", "31536000")) if SESSION_COOKIE_SECURE else 0
)
BEHIND_PROXY = env_bool("LICENTIA_BEHIND_PROXY")
# Peers whose X-Forwarded-For names the client (licentia.core.network.client_ip): none unless
# the server is behind a proxy, since any caller can write the header.
TRUSTED_PROXIES = env_list("LICENTIA_TRUSTED_PROXIES", "127.0.0.0/8,::1") if BEHIND_PROXY else []
for _network in TRUSTED_PROXIES:
    try:
        ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"LICENTIA_TRUSTED_PROXIES: {_error}") from None
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One JSON object per line, so that log collectors need no parsing rules: the time (UTC),
    # level, logger and message, then every field passed in `extra`.
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger", "exc_info": "exception"},
            "timestamp": "time",
            "json_ensure_ascii": False,
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Requests are logged once, structured, by RequestLogMiddleware.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

UNFOLD = {
    "SITE_TITLE": "Licentia",
    "SITE_HEADER": "Licentia",
    "SITE_SUBHEADER": _("Vendor cabinet"),
    "SITE_URL": None,
    "SITE_SYMBOL": "key",
    "SHOW_HISTORY": False,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "ENVIRONMENT": "licentia.cabinet.warnings.header_warning",
    "LANGUAGES": {"action": "licentia.cabinet.navigation.language_action"},
    "DASHBOARD_CALLBACK": "licentia.cabinet.dashboard.dashboard_callback",
    "STYLES": ["licentia.cabinet.styles.stylesheet", "licentia.cabinet.styles.moments_stylesheet"],
    "SCRIPTS": ["licentia.cabinet.styles.moments_script"],
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": "licentia.cabinet.navigation.sidebar_navigation",
    },
}
