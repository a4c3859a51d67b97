from django.urls import path

from kehu.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_page, name="upload"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/errors.xlsx", views.error_report, name="error_report"),
]
