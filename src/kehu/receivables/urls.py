"""Receivables pages, mounted at /receivables/."""

from importlib.util import find_spec

from django.urls import include, path

from kehu.receivables.views import aging

app_name = "receivables"

urlpatterns = [
    path("", aging.aging_page, name="aging"),
    path("aging.xlsx", aging.aging_export, name="aging_export"),
    path("invoices/", aging.invoice_list, name="invoices"),
    path("figures/", aging.figures_page, name="figures"),
]

# The follow-up pages (dunning, promises, write-offs) live in their own module when present.
if find_spec("kehu.receivables.collections_urls") is not None:
    urlpatterns.append(path("collections/", include("kehu.receivables.collections_urls")))
