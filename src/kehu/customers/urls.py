from django.urls import path

from kehu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.xlsx", views.customer_export, name="export"),
    path("<int:customer_id>/", views.customer_card, name="card"),
]
