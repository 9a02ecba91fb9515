"""Settings for the HFS-B12 eCRF. Every deployment-specific value comes from the environment."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from hfs_ecrf.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = envstr("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "hfs_ecrf.apps.StudyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "hfs_ecrf",
    "patients",
    "assessments",
    "randomisation",
    "monitoring",
    "analysis",
    "api",
    "demo",  # synthetic data for the quickstart; last, it may use every other app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hfs_ecrf.sessions.SessionRefreshMiddleware",
    "hfs_ecrf.language.StudyLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hfs_ecrf.urls"
WSGI_APPLICATION = "hfs_ecrf.wsgi.application"

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
                "hfs_ecrf.access.role_context",
                "patients.context_processors.demo_data",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict:
    # PostgreSQL: each worker keeps its connection for a minute (checked before reuse) instead of
    # opening one per request; a new connection costs the server a process and cold catalog
    # caches, ~10 ms of CPU per request (README, benchmarks). SQLite opens a file: nothing kept.
    postgres = url.startswith(("postgres://", "postgresql://"))
    config = dj_database_url.parse(
        url,
        conn_max_age=envint("CONN_MAX_AGE", 60 if postgres else 0),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(config["NAME"])
        if str(name) != ":memory:" and not name.is_absolute():
            name = BASE_DIR / name
            name.parent.mkdir(parents=True, exist_ok=True)
        config["NAME"] = str(name)
        # The quickstart serves a few simultaneous users: readers never block the writer (WAL),
        # a writer waits for the lock instead of failing (timeout, in seconds), and every
        # transaction takes the write lock when it begins (IMMEDIATE), so two transactions never
        # deadlock upgrading a read lock ("database is locked").
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": envint("SQLITE_BUSY_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    # Every request is one transaction: a failing view leaves nothing half-saved.
    config["ATOMIC_REQUESTS"] = True
    return config


DATABASES = {"default": _database_from_url(envstr("DATABASE_URL", "sqlite:///var/db.sqlite3"))}
# PostgreSQL: the role the application connects as (DATABASE_URL at run time). `migrate` runs as
# the tables' owner (DATABASE_URL set to the owner's URL) and grants this role what it may do:
# no TRUNCATE, no change or delete of history rows or of the security and export logs
# (hfs_ecrf/dbguard.py). Empty: no grants (one role owns and runs everything, e.g. SQLite).
DATABASE_APP_ROLE = envstr("DATABASE_APP_ROLE", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (the analysis results after each change of the data) goes through Django's
# tasks API; the database backend keeps the queue in the project's database and
# `manage.py db_worker` runs it (`make run` starts one; run one next to gunicorn in production).
TASKS = {
    "default": {
        "BACKEND": envstr("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# The most of the worker's time the analysis recomputation takes under a stream of writes
# (analysis/tasks.py results_refresh_pause), in percent; 100: back to back.
ANALYSIS_WORKER_SHARE = envint("ANALYSIS_WORKER_SHARE", 50)
# The worker gives itself the lowest CPU priority (analysis/tasks.py lowest_cpu_priority); off
# where the task runs inside another process that must keep its own (the tests' in-process worker).
ANALYSIS_WORKER_LOWEST_PRIORITY = envbool("ANALYSIS_WORKER_LOWEST_PRIORITY", True)

# The list pages' rendered content per data version and user scope (hfs_ecrf/list_cache.py), in
# each worker's memory. LIST_CACHE_SECONDS=0 turns it off.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "lists": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "lists",
        "OPTIONS": {"MAX_ENTRIES": 200},  # a page: tens to a few hundred kB
    },
    "analysis": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "analysis",
        # a page's content: up to ~3 MB (inline SVG figures) at 10 000 patients; 8 pages and the
        # JSON in two languages for the result shown and the one before
        "OPTIONS": {"MAX_ENTRIES": 40},
    },
}
LIST_CACHE_SECONDS = envint("LIST_CACHE_SECONDS", 600)
# What the analysis pages and the results JSON build from a stored result, per result, page and
# language (analysis/dashboard/kept.py), in each worker's memory. 0 turns it off.
ANALYSIS_CACHE_SECONDS = envint("ANALYSIS_CACHE_SECONDS", 3600)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Study capabilities come only from the study role groups (see hfs_ecrf/backends.py).
    "hfs_ecrf.backends.StudyRoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account after 5 failures from one username and IP; it reopens after 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Reverse proxies in front of the app that append the client's address to X-Forwarded-For.
# 0 (default): the address is the TCP peer and X-Forwarded-For is ignored (it can be forged).
# 1: one proxy (nginx, Caddy) sets the header; its last entry is the client. The lockout and the
# security log both use hfs_ecrf.security.client_ip.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or a positive number of proxies.")
AXES_CLIENT_IP_CALLABLE = "hfs_ecrf.security.client_ip"

# Sessions end after 30 minutes without a request: each request moves the expiry on, saved at
# most once a minute (hfs_ecrf/sessions.py), so a session ends 29-30 minutes after the last one.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = envstr("LANGUAGE_CODE", "ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = envstr("TIME_ZONE", "Asia/Samarkand")

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
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

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The audit trail is read-only everywhere, the admin's "revert" included.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# REDCap-compatible API: calls one token may make per minute (HTTP 429 beyond).
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", 120)

# No study date (screening, consent, visits, samples, treatment, events) lies before this day.
STUDY_START = date.fromisoformat(envstr("STUDY_START", "2020-01-01"))

# Open-label trial: clinicians may see the arm. A blinded trial lists only unblinded roles here.
ARM_VISIBLE_TO_ROLES = envlist(
    "ARM_VISIBLE_TO_ROLES", ["clinician", "monitor", "investigator", "data_manager"]
)

# Safety notices (serious adverse events). Without EMAIL_HOST mail is printed to the console.
EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "hfs-b12-ecrf@localhost")

if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Every page and script is served by the app itself: no inline script, no third-party origin.
# Styles and images also allow data: URLs only where Bootstrap and the PNG export need them.
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
    },
}
# Browser features the eCRF never uses are switched off for every page.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "WARNING")},
}
