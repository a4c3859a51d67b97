"""Pages of the follow-up, mounted under /receivables/collections/ by the receivables URLs."""

from django.urls import path

from kehu.receivables.views import collections as views

app_name = "collections"

urlpatterns = [
    path("", views.chase_list, name="chase_list"),
    path("chase.xlsx", views.chase_export, name="chase_export"),
    path("customers/<int:customer_id>/", views.customer_panel, name="customer"),
    path("vanished/", views.vanished_list, name="vanished"),
    path("vanished.xlsx", views.vanished_export, name="vanished_export"),
    path("write-offs/", views.write_off_list, name="write_offs"),
    path("write-offs.xlsx", views.write_off_export, name="write_offs_export"),
    path(
        "write-offs/<int:write_off_id>/reverse/",
        views.write_off_reverse_view,
        name="write_off_reverse",
    ),
    path("provision/", views.provision_page, name="provision"),
    path("provision.xlsx", views.provision_export, name="provision_export"),
]
