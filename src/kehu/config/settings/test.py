"""Tests: SQLite in a temporary folder, or PostgreSQL when KEHU_TEST_DATABASE_URL is set."""

import tempfile

import dj_database_url

from kehu.config.env import env_str
from kehu.config.settings.base import *  # noqa: F403

SECRET_KEY = "kehu-tests-only"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

_test_url = env_str("KEHU_TEST_DATABASE_URL")
if _test_url:
    DATABASES = {"default": dj_database_url.parse(_test_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": f"{tempfile.gettempdir()}/kehu-test.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": None},
        }
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
