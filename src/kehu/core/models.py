from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SettingsVersion(models.Model):
    """One version of an area's settings (value, credit): the values in force, what changed,
    who, when and why. The newest row is in force; rows are never changed, so the history is
    the table itself (core/layered_settings.py merges the values over the defaults)."""

    values = models.JSONField(_("values"))
    changes = models.JSONField(_("changes"), default=dict)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-id"]
