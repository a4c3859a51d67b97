"""Development and demo: the default when nothing else is chosen."""

from kehu.config.env import env_bool
from kehu.config.settings.base import *  # noqa: F403

DEBUG = env_bool("KEHU_DEBUG", True)
