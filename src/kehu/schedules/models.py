"""Scheduled jobs 定时任务: which background task runs when (a cron expression in the app's
time zone), and what the scheduler did last. The scheduler (`services.schedules_tick`, run by
`kehu worker` every 30 seconds) enqueues each due job once; the task queue (django-tasks-db)
runs it and keeps its result.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Schedule(models.Model):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    task_path = models.CharField(_("task"), max_length=200)
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    cron = models.CharField(
        _("when (cron)"), max_length=100, help_text=_("minute hour day month weekday")
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # Null until the first tick after the row was created or enabled works it out.
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_enqueued_at = models.DateTimeField(_("last queued"), null=True, blank=True)
    last_enqueued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last queued by"),
    )
    # The id of the last queued task result (django_tasks_db.DBTaskResult): its status and
    # duration are read from there, so they are always current.
    last_result_id = models.CharField(_("last task result"), max_length=64, blank=True)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["key"]
        indexes = [models.Index(fields=["is_enabled", "next_run_at"], name="schedule_due")]

    def __str__(self) -> str:
        return self.key


class SchedulerHeartbeat(models.Model):
    """One row per running scheduler (`kehu worker`), touched at every tick: the schedules
    page says whether any scheduler ticked lately."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    hostname = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    last_tick_at = models.DateTimeField(_("last tick"))
    ticks = models.PositiveIntegerField(_("ticks"), default=0)

    class Meta:
        verbose_name = _("scheduler heartbeat")
        verbose_name_plural = _("scheduler heartbeats")
        ordering = ["-last_tick_at"]

    def __str__(self) -> str:
        return self.worker_id
