from django.contrib import admin
from django.urls import include, path

from kehu.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("kehu.customers.urls")),
    path("imports/", include("kehu.imports.urls")),
    path("receivables/", include("kehu.receivables.urls")),
    path("value/", include("kehu.value.urls")),
    path("credit/", include("kehu.credit.urls")),
    path("settings/schedules/", include("kehu.schedules.urls")),
    path("", include("kehu.web.urls")),
]
