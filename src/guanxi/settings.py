"""All settings, read once from environment variables (12-factor).

Every value is parsed by a small typed helper that fails loudly, naming the variable, when the
value is malformed. With nothing set, Guanxi runs on its embedded default: SQLite in the data
directory (``GUANXI_DATA_DIR``, default ``./guanxi-data``) and a secret key generated on first run.
Production mode (``GUANXI_ENV=production``) refuses to start without ``SECRET_KEY`` and
``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
ENVIRONMENT = env_str("GUANXI_ENV", "development")
if ENVIRONMENT not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"GUANXI_ENV={ENVIRONMENT!r} must be development, production or test")
PRODUCTION = ENVIRONMENT == "production"
DATA_DIR = Path(env_str("GUANXI_DATA_DIR", "guanxi-data")).resolve()


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when GUANXI_ENV=production")
    # Embedded default: generate once and keep it beside the database so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when GUANXI_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known IANA time zone") from None
USE_TZ = True
USE_I18N = True
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans").lower()
if LANGUAGE_CODE not in {code for code, _ in LANGUAGES}:
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r} must be one of zh-hans, en")
LOCALE_PATHS = [BASE_DIR / "locale"]


def _database() -> dict[str, object]:
    url = env_str("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'guanxi.sqlite3'}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    engine = str(config.get("ENGINE", ""))
    if engine.endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # WAL lets readers run beside the single writer; IMMEDIATE avoids lock upgrades mid-transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
        }
    elif "postgresql" not in engine:
        raise ImproperlyConfigured(f"DATABASE_URL must point to SQLite or PostgreSQL, not {engine}")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Background jobs: huey on a SQLite file by default (no broker to install), Redis when REDIS_URL is set.
# GUANXI_JOBS_IMMEDIATE runs tasks inline (tests, or a one-process deployment without a worker).
_huey_common = {
    "name": "guanxi",
    "utc": True,
    "immediate": env_bool("GUANXI_JOBS_IMMEDIATE", default=False),
    "consumer": {"workers": env_int("GUANXI_WORKER_THREADS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must look like redis://host:6379/0")
    HUEY = {**_huey_common, "huey_class": "huey.RedisHuey", "url": REDIS_URL}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    HUEY = {**_huey_common, "huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "jobs.sqlite3")}
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    from urllib.parse import unquote, urlparse

    _email = urlparse(EMAIL_URL)
    if _email.scheme not in {"smtp", "smtps", "submission", "console"}:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://user:pass@host:port (or smtps://, console://)"
        )
    if _email.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    else:
        EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        EMAIL_HOST = _email.hostname or "localhost"
        EMAIL_PORT = _email.port or (
            465 if _email.scheme == "smtps" else 587 if _email.scheme == "submission" else 25
        )
        EMAIL_HOST_USER = unquote(_email.username or "")
        EMAIL_HOST_PASSWORD = unquote(_email.password or "")
        EMAIL_USE_SSL = _email.scheme == "smtps"
        EMAIL_USE_TLS = _email.scheme == "submission"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Guanxi CRM <noreply@localhost>")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "heroicons",
    "ninja",
    "huey.contrib.djhuey",
    "guanxi.core",
    "guanxi.customers",
    "guanxi.engagement",
    "guanxi.marketing",
    "guanxi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "guanxi.core.middleware.NulByteGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.core.middleware.OrganizationMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"
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
                "django.template.context_processors.i18n",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "guanxi.web.staticfinders.PackageAssetFinder",  # plotly.min.js from the installed plotly wheel
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production, serve straight from the app folders so `guanxi demo` needs no collectstatic
# (the empty STATIC_ROOT only keeps whitenoise from warning on every start).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_MAX_AGE = 3600 * 24 * 30 if PRODUCTION else 60

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Domain settings
GUANXI_RECYCLE_BIN_DAYS = env_int("GUANXI_RECYCLE_BIN_DAYS", 30)
GUANXI_BULK_MAX_ITEMS = 1000
GUANXI_PAGE_MAX_LIMIT = 200
GUANXI_DEFAULT_PHONE_REGION = env_str("GUANXI_DEFAULT_PHONE_REGION", "CN").upper()
# Customer exports: per-user limit per hour (0 = none), rows streamed directly above which a job
# writes a file instead, and how long such files stay downloadable. "All N matching" bulk actions
# above GUANXI_BULK_SYNC_MAX customers run as a job.
GUANXI_EXPORTS_PER_HOUR = env_int("GUANXI_EXPORTS_PER_HOUR", 20)
GUANXI_EXPORT_SYNC_MAX_ROWS = env_int("GUANXI_EXPORT_SYNC_MAX_ROWS", 5000)
GUANXI_EXPORT_TTL_HOURS = env_int("GUANXI_EXPORT_TTL_HOURS", 24)
GUANXI_BULK_SYNC_MAX = env_int("GUANXI_BULK_SYNC_MAX", 500)
# Customer imports: rows per committed chunk (the unit of resumption), and cleaner worker
# processes for files above 20,000 rows (0 = one per usable CPU, at most 4).
GUANXI_IMPORT_CHUNK_ROWS = env_int("GUANXI_IMPORT_CHUNK_ROWS", 5000)
GUANXI_IMPORT_WORKERS = env_int("GUANXI_IMPORT_WORKERS", 0)
# Public web forms (/f/<token>/): posts allowed per IP address and form, and per form, in a window
# of seconds (then 429 with Retry-After); a form sent faster than MIN_FILL_SECONDS is a bot's.
GUANXI_WEBFORM_RATE_PER_IP = (
    env_int("GUANXI_WEBFORM_RATE_PER_IP", 10),
    env_int("GUANXI_WEBFORM_RATE_PER_IP_WINDOW", 600),
)
GUANXI_WEBFORM_RATE_PER_FORM = (
    env_int("GUANXI_WEBFORM_RATE_PER_FORM", 300),
    env_int("GUANXI_WEBFORM_RATE_PER_FORM_WINDOW", 3600),
)
GUANXI_WEBFORM_MIN_FILL_SECONDS = env_int("GUANXI_WEBFORM_MIN_FILL_SECONDS", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING").upper()},
}
