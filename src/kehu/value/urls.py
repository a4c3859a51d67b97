"""Value report pages, mounted at /value/."""

from django.urls import path

from kehu.value import views, views_migration

app_name = "value"

urlpatterns = [
    path("", views.pyramid_page, name="pyramid"),
    path("pyramid.xlsx", views.pyramid_export, name="pyramid_export"),
    path("concentration/", views.concentration_page, name="concentration"),
]

urlpatterns += views_migration.urlpatterns
