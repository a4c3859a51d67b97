from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ValueConfig(AppConfig):
    name = "kehu.value"
    label = "value"
    verbose_name = _("Customer value")
    default_auto_field = "django.db.models.BigAutoField"
