"""One settings module, configured from the environment.

Environment variables
---------------------
DATABASE_URL        sqlite:///path or postgres://user:pass@host:port/name
                    (default: SQLite file ``langganan.sqlite3`` in LANGGANAN_DATA_DIR)
LANGGANAN_DATA_DIR  folder for the SQLite file and the generated secret key (default ./data)
SECRET_KEY          Django secret key (default: generated once and kept in the data folder)
DEBUG               1/true/yes to enable debug mode (default off)
ALLOWED_HOSTS       comma-separated host names (default 127.0.0.1,localhost)
CSRF_TRUSTED_ORIGINS comma-separated origins, e.g. https://crm.example.id
SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD,
SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE, SECURE_PROXY_SSL_HEADER  HTTPS in production
DATA_UPLOAD_MAX_MEMORY_SIZE  the largest request body, in bytes (default 2.5 MiB)
LANGGANAN_IMPORT_MAX_MB  the largest file the browser import accepts, in MB (default 50); it
                    is kept in LANGGANAN_DATA_DIR/uploads until its import ends
LANGGANAN_EXPORT_INLINE_ROWS  exports of more rows are written by the background worker
                    (when it runs) to LANGGANAN_DATA_DIR/exports for a day (default 20000)
LANGGANAN_MEDIA_DIR the folder uploaded files (complaint photos) are kept in, outside the web
                    root (default LANGGANAN_DATA_DIR/media); served only through views that
                    check the merchant and the role
LANGGANAN_PHOTO_MAX_MB  the largest complaint photo accepted, in MB (default 5)
PUBLIC_BASE_URL     the address customers reach (opt-out links), default http://127.0.0.1:8000
EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL,
DEFAULT_FROM_EMAIL  the SMTP server campaign emails go out through (default localhost:25)
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url

from langganan.config.env import env_bool, env_header, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("LANGGANAN_DATA_DIR", Path.cwd() / "data")).resolve()


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
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
    "django.contrib.humanize",
    "ninja",  # the API docs use the Swagger UI files shipped in the package, not a CDN
    "langganan.core",
    "langganan.customers",
    "langganan.sales",
    "langganan.insights",
    "langganan.loyalty",
    "langganan.api",
    "langganan.webhooks",
    "langganan.campaigns",
    "langganan.privacy",  # personal-data rights (UU PDP 27/2022) and the audit log
    "langganan.staff",  # sign-in protection, the password hasher, the staff page
    "django_otp",  # owners' optional two-step login (langganan.staff.two_factor)
    "django_otp.plugins.otp_totp",
    "langganan.counter",  # kasir: the counter screen, enrolment, sign-up by QR, the tabs
    "langganan.care",  # keluhan & saran: complaints, service recovery, feedback after a visit
    "langganan.web",
    "langganan.demo",  # marks what `langganan demo` made (its merchants and logins)
    "django_q",  # the campaign worker: a database-backed task queue with schedules
]

MIDDLEWARE = [
    "langganan.staff.middleware.LockedLoginMiddleware",  # a locked address's login flood: 429
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "langganan.web.middleware.ChosenLanguageMiddleware",  # Indonesian unless switched
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "langganan.config.urls"
WSGI_APPLICATION = "langganan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'langganan.sqlite3'}"
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on busy_timeout instead of failing half-way through.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                # 64 MiB of page cache: large imports insert into random-keyed indexes, and a
                # small cache turns each insert into page reads from the write-ahead log.
                "PRAGMA cache_size=-65536;"
            ),
        }
        # Tests run in a file, not in memory: concurrency tests use real threads, and an
        # in-memory database shared between threads fails with "table is locked" instead of
        # queueing on the write lock as a real database file does.
        config["TEST"] = {
            "NAME": os.path.join(tempfile.gettempdir(), f"langganan-test-{os.getpid()}.sqlite3")
        }
    else:
        config["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
#: The POS API's hottest reads (the key check, the customer, their accounts and vouchers) are
#: prepared on PostgreSQL (langganan.core.rows). Set LANGGANAN_PG_PREPARE=0 behind a
#: connection pooler in transaction mode that cannot keep prepared statements.
HOT_READS_PREPARED = os.environ.get("LANGGANAN_PG_PREPARE", "1") != "0"
# each sale updates its customer's insight right after it commits (insights.live); "0" leaves
# it to the nightly analysis (the API benchmark's "before", or a till that must shed load)
LIVE_INSIGHTS = os.environ.get("LANGGANAN_LIVE_INSIGHTS", "1") != "0"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id at 19 MiB, 2 passes, 1 lane (about 20 ms a check here, PBKDF2's default 250 ms
# or more); hashes of the other hashers are still accepted and re-hashed at the next login.
PASSWORD_HASHERS = [
    "langganan.staff.hashers.StaffArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Sign-in protection (langganan/staff/guard.py; README "Login protection"): failures are
# counted in the database, shared by every worker process.
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20"))
LOGIN_FAILURE_WINDOW = timedelta(minutes=int(os.environ.get("LOGIN_FAILURE_MINUTES", "15")))
LOGIN_LOCK_DURATION = timedelta(minutes=int(os.environ.get("LOGIN_LOCK_MINUTES", "15")))
API_KEY_FAILURES_PER_ADDRESS = int(os.environ.get("API_KEY_FAILURES_PER_ADDRESS", "20"))
API_KEY_FAILURE_WINDOW = timedelta(minutes=int(os.environ.get("API_KEY_FAILURE_MINUTES", "10")))
API_KEY_LOCK_DURATION = timedelta(minutes=int(os.environ.get("API_KEY_LOCK_MINUTES", "10")))
#: Self sign-up by QR (langganan/counter/enrolment.py): sign-ups allowed per window from one
#: address (guests may share a café's Wi-Fi) and through one outlet's poster, counted in the
#: database; more are answered 429.
SIGNUP_PER_ADDRESS = int(os.environ.get("SIGNUP_PER_ADDRESS", "10"))
SIGNUP_PER_OUTLET = int(os.environ.get("SIGNUP_PER_OUTLET", "200"))
SIGNUP_WINDOW = timedelta(minutes=int(os.environ.get("SIGNUP_WINDOW_MINUTES", "60")))
#: Password checks running at once on this machine (all worker processes together), and how
#: long a login waits for one before it is answered "coba lagi" (429).
LOGIN_CONCURRENT_PASSWORD_CHECKS = int(os.environ.get("LOGIN_CONCURRENT_PASSWORD_CHECKS", "1"))
LOGIN_PASSWORD_CHECK_WAIT = float(os.environ.get("LOGIN_PASSWORD_CHECK_WAIT", "0"))
#: Reverse proxies in front of the app: the client's address is read from X-Forwarded-For,
#: that many entries from the right (0: the connection's own address).
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
#: The name an authenticator app shows beside an owner's two-step login codes.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Langganan")

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"  # for `collectstatic`; whitenoise also serves from the apps
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the installed plotly package (langganan.web.charts), never a CDN
    "langganan.web.charts.PlotlyFinder",
]
# its URL names plotly's version: browsers keep the 4.8 MB file for good instead of a minute
WHITENOISE_IMMUTABLE_FILE_TEST = r"/web/vendor/plotly-[^/]+/"
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
#: uploads (complaint photos): never served by URL, only through views that check the merchant
MEDIA_ROOT = Path(os.environ.get("LANGGANAN_MEDIA_DIR", DATA_DIR / "media")).resolve()
LANGGANAN_PHOTO_MAX_MB = env_int("LANGGANAN_PHOTO_MAX_MB", 5)

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# -- HTTPS and request limits (README "Production settings") ------------------------------------
# Off by default: the demo and the tests run on plain http://127.0.0.1. A deployment behind
# HTTPS sets these in its environment, and `django-admin check --deploy` is then clean.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
#: The header a TLS-terminating proxy (nginx, Caddy) sets, "X-Forwarded-Proto: https": only
#: behind a proxy that always sets it (else a client could claim HTTPS).
SECURE_PROXY_SSL_HEADER = env_header("SECURE_PROXY_SSL_HEADER")
#: The largest request body read (the POS API answers a larger one 413); files uploaded to the
#: import pages are not counted. Django's default, 2.5 MiB: a full offline batch of 500 sales
#: is well under it.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
#: the largest file the browser import accepts, in megabytes (larger ones: `langganan import`)
LANGGANAN_IMPORT_MAX_MB = env_int("LANGGANAN_IMPORT_MAX_MB", 50)
LANGGANAN_EXPORT_INLINE_ROWS = env_int("LANGGANAN_EXPORT_INLINE_ROWS", 20000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# -- campaigns ------------------------------------------------------------------------------------

PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "langganan@localhost")

# `langganan worker` runs a django-q2 cluster on the database itself (the ORM broker): nothing
# else has to run. Its schedules (campaign triggers, the outbox) are set by the worker command.
Q_CLUSTER = {
    "name": "langganan",
    "orm": "default",
    "workers": 1,
    "recycle": 500,
    "timeout": 600,
    "retry": 900,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 250,
    "poll": 1,
    "ack_failures": True,
}
