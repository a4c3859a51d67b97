"""The customer list as an Excel workbook (xlsxwriter, constant memory: rows stream to disk)."""

from __future__ import annotations

import datetime as dt
from typing import IO

import xlsxwriter
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.accounts.models import OrgUnit, User
from kehu.accounts.selectors import users_visible_to
from kehu.core.money import ZERO
from kehu.customers.lifecycle import lifecycle_of
from kehu.customers.models import Customer, CustomerKind, Lifecycle
from kehu.customers.selectors import customer_open_balances_matching

EXCEL_MAX_ROWS = 1_048_575  # one sheet's rows, less the header
CHUNK_SIZE = 5_000
COLUMNS = (
    "pk", "code", "name", "kind", "region_id", "city", "owner_id", "last_purchase_on",
    "purchase_count", "credit_limit",
)  # fmt: skip


def customer_columns() -> list[tuple[str, int]]:
    """Header (in the active language) and width of each column."""
    return [
        (_("Customer code"), 14),
        (_("Name"), 32),
        (_("Kind"), 12),
        (_("Lifecycle"), 10),
        (_("Region"), 12),
        (_("City"), 12),
        (_("Owner rep"), 14),
        (_("Last purchase"), 12),
        (_("Purchases"), 10),
        (_("Credit limit"), 16),
        (_("Open balance"), 16),
    ]


def write_customer_workbook(
    *, output: IO[bytes], user: User, customers: QuerySet[Customer], today: dt.date
) -> int:
    """Write every customer of `customers`, in its order, to `output`; returns the row count.

    Reads plain tuples (no model instances); names of owners and regions and the open balances
    come from one query each, not one per row or per chunk.
    """
    balances = customer_open_balances_matching(customers=customers)
    owners = {person.pk: str(person) for person in users_visible_to(user)}
    regions = dict(OrgUnit.objects.values_list("pk", "name"))
    kinds = {key: str(label) for key, label in CustomerKind.choices}
    lifecycles = {key: str(label) for key, label in Lifecycle.choices}

    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = workbook.add_worksheet(_("Customers"))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    columns = customer_columns()
    for column, (title, width) in enumerate(columns):
        sheet.set_column(column, column, width)
        sheet.write_string(0, column, title, bold)
    sheet.freeze_panes(1, 0)
    row = 0
    rows = customers.values_list(*COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    for pk, code, name, kind, region_id, city, owner_id, last, purchases, limit in rows:
        row += 1
        state = lifecycle_of(purchase_count=purchases, last_purchase_on=last, today=today)
        sheet.write_string(row, 0, code)
        sheet.write_string(row, 1, name)
        sheet.write_string(row, 2, kinds.get(kind, kind))
        sheet.write_string(row, 3, lifecycles[state])
        sheet.write_string(row, 4, regions.get(region_id, ""))
        sheet.write_string(row, 5, city)
        sheet.write_string(row, 6, owners.get(owner_id, ""))
        if last is not None:
            sheet.write_datetime(row, 7, last, date)
        sheet.write_number(row, 8, purchases)
        sheet.write_number(row, 9, limit, money)
        sheet.write_number(row, 10, balances.get(pk, ZERO), money)
    sheet.autofilter(0, 0, max(row, 1), len(columns) - 1)
    workbook.close()
    return row
