"""Schedule pages, mounted at /settings/schedules/."""

from django.urls import path

from kehu.schedules import views

app_name = "schedules"

urlpatterns = [
    path("", views.schedules_page, name="list"),
    path("results.xlsx", views.task_results_export, name="results_export"),
    path("<int:schedule_id>/run/", views.schedule_run_now_view, name="run_now"),
    path("<int:schedule_id>/enable/", views.schedule_enable_view, name="enable"),
    path("<int:schedule_id>/cron/", views.schedule_cron_view, name="cron"),
]
