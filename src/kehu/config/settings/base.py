"""Settings shared by every environment. Values come from the environment via kehu.config.env."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from kehu.config.env import data_dir, env_bool, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = data_dir()

SECRET_KEY = env_str("KEHU_SECRET_KEY", "kehu-insecure-development-key-change-me")
DEBUG = env_bool("KEHU_DEBUG", False)
ALLOWED_HOSTS = env_list("KEHU_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("KEHU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI from its own static files (no CDN) at /api/docs
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "simple_history",
    "kehu.core",
    "kehu.accounts",
    "kehu.customers",
    "kehu.catalog",
    "kehu.sales",
    "kehu.receivables",
    "kehu.service",
    "kehu.imports",
    "kehu.value",
    "kehu.credit",
    "kehu.schedules",
    "kehu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files served by the app itself (`kehu serve`): no CDN, no separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehu.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.web.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "kehu.config.urls"
WSGI_APPLICATION = "kehu.config.wsgi.application"

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
                "kehu.web.context_processors.shell",
            ],
        },
    },
]


def _database_settings() -> dict:
    url = env_str("KEHU_DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "kehu.sqlite3"),
        "OPTIONS": {
            # WAL lets readers work while one writer writes; IMMEDIATE avoids
            # "database is locked" upgrades inside write transactions.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA cache_size=-64000;"
            ),
            "transaction_mode": "IMMEDIATE",
        },
    }


DATABASES = {"default": _database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("KEHU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

# Business defaults (domain.md); every default is a setting a company can change.
KEHU = {
    "CURRENCY": env_str("KEHU_CURRENCY", "CNY"),
    # The name printed on statements and forms.
    "COMPANY_NAME": env_str("KEHU_COMPANY_NAME", ""),
    # Lifecycle (domain §2): no purchase within this many days → inactive; within the
    # longer window → lost.
    "INACTIVE_AFTER_DAYS": 365,
    "LOST_AFTER_DAYS": 730,
    "PAGE_SIZE": 50,
    # Receivables (domain §6): upper edges of the past-due aging buckets in days (then "over
    # the last"); total assets for the receivables share (None: not entered); net margin.
    "AGING_BUCKETS": (30, 60, 90, 180, 365),
    "TOTAL_ASSETS": None,
    "NET_MARGIN": 0.05,
    # Owing, no payment and no successful contact for this many days: a vanished debtor.
    "VANISHED_AFTER_DAYS": 180,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
