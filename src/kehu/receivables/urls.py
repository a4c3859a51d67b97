"""Receivables pages, mounted at /receivables/."""

from importlib.util import find_spec

from django.urls import include, path

from kehu.receivables.views import aging, statements

app_name = "receivables"

urlpatterns = [
    path("", aging.aging_page, name="aging"),
    path("aging.xlsx", aging.aging_export, name="aging_export"),
    path("invoices/", aging.invoice_list, name="invoices"),
    path("figures/", aging.figures_page, name="figures"),
    path("statements/<int:customer_id>/", statements.statement_page, name="statement"),
    path(
        "statements/<int:customer_id>/statement.pdf",
        statements.statement_pdf_download,
        name="statement_pdf",
    ),
    path(
        "statements/<int:customer_id>/statement.xlsx",
        statements.statement_xlsx_download,
        name="statement_xlsx",
    ),
]

# The follow-up pages (dunning, promises, write-offs) live in their own module when present.
if find_spec("kehu.receivables.collections_urls") is not None:
    urlpatterns.append(path("collections/", include("kehu.receivables.collections_urls")))
