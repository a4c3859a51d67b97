"""Value report pages, mounted at /value/."""

from django.urls import path

from kehu.value import (
    views,
    views_card,
    views_lifetime,
    views_migration,
    views_runs,
    views_segments,
)

app_name = "value"

urlpatterns = [
    path("", views.pyramid_page, name="pyramid"),
    path("pyramid.xlsx", views.pyramid_export, name="pyramid_export"),
    path("concentration/", views.concentration_page, name="concentration"),
    path("concentration.xlsx", views.concentration_export, name="concentration_export"),
    path("matrix/", views.matrix_page, name="matrix"),
    path("matrix.xlsx", views.matrix_export, name="matrix_export"),
    path("profitability/", views.profitability_page, name="profitability"),
    path("profitability.xlsx", views.profitability_export, name="profitability_export"),
]

urlpatterns += views_migration.urlpatterns
urlpatterns += views_card.urlpatterns
urlpatterns += views_lifetime.urlpatterns
urlpatterns += views_runs.urlpatterns
urlpatterns += views_segments.urlpatterns
