"""Production: secrets must come from the environment."""

from kehu.config.env import env_str
from kehu.config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("KEHU_SECRET_KEY")
if not SECRET_KEY:
    raise RuntimeError("KEHU_SECRET_KEY must be set in production")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
