"""The CDNOW purchase log, the classic data set of customer-base analysis (BG/NBD, Pareto/NBD).

Whitespace-separated columns: customer id, date (YYYYMMDD), number of CDs, dollar amount. The
master file starts with a header line; the 1/10 sample file has no header and one more column
(the id in the master file, then the id in the sample). Both give the master id.

Each customer id becomes a consumer customer "CDNOW-<id>" (amounts in US dollars), each row a
confirmed cash order "CDNOW-<id>-<date>-<n>" (n counts the purchases of that customer on that
day, in file order) with one line of the product "CD": quantity = CDs, amount = dollars. The
unit price is the amount divided by the CDs, rounded to cents, so on a few rows quantity × unit
price is a cent away from the amount; the amount is the file's and is kept exactly. Rows of
zero dollars are kept as orders of zero.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from kehu.accounts.models import Role, User
from kehu.catalog.models import Product, ProductCategory
from kehu.core.money import CENT, ZERO
from kehu.customers.models import Customer, CustomerKind
from kehu.customers.search import search_text_of
from kehu.customers.services import customer_purchase_stats_refresh
from kehu.imports import bulk
from kehu.imports.kinds.base import Context, Counts, Plan, in_chunks
from kehu.imports.kinds.orders import LINE_FIELDS, ORDER_FIELDS
from kehu.imports.readers import FileRefused, decode_text
from kehu.imports.validation import RowErrors
from kehu.sales.models import Order, OrderLine, OrderState, PaymentMethod

CURRENCY = "USD"
PRODUCT_CODE = "CD"
CATEGORY_CODE = "cdnow"
IMPORT_USERNAME = "import"
COLUMNS = ("customer id", "date", "number of CDs", "dollar amount")
_NUMBER = re.compile(r"\d+")
_AMOUNT = re.compile(r"\d+(\.\d+)?")


@dataclass
class Purchase:
    row_number: int
    customer_id: str
    order_date: dt.date
    quantity: int
    amount: Decimal
    number: str = ""


def import_owner(username: str | None) -> User:
    """The owner of the imported customers: the named user, or the "import" rep."""
    if username:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise FileRefused(
                _("No user with the username %(name)r.") % {"name": username}
            ) from None
    user, created = User.objects.get_or_create(
        username=IMPORT_USERNAME,
        defaults={"role": Role.SALES_REP, "display_name": "Import"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def read_purchases(path: Path, errors: RowErrors) -> list[Purchase]:
    text, _encoding = decode_text(Path(path).read_bytes())
    purchases: list[Purchase] = []
    width = None
    dates: dict[str, dt.date] = {}
    for row_number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if width is None and not _NUMBER.fullmatch(fields[0]):
            continue  # the master file's header line
        if width is None:
            width = len(fields)
            if width not in (4, 5):
                raise FileRefused(
                    _(
                        "Row %(row)d has %(count)d columns; a CDNOW file has 4 (customer id, "
                        "date, CDs, dollars) or 5 (master id, sample id, date, CDs, dollars)."
                    )
                    % {"row": row_number, "count": width}
                )
        if len(fields) != width:
            errors.add(
                row_number,
                None,
                line.strip(),
                _("This row has %(count)d columns, the rows before it %(width)d.")
                % {"count": len(fields), "width": width},
            )
            continue
        customer_id, date_text, count_text, amount_text = (
            fields if width == 4 else [fields[0], *fields[2:]]
        )
        is_bad = False
        if not _NUMBER.fullmatch(customer_id):
            errors.add(row_number, COLUMNS[0], customer_id, _("Not a customer id (digits)."))
            is_bad = True
        order_date = dates.get(date_text)
        if order_date is None:
            try:
                order_date = dates[date_text] = dt.datetime.strptime(date_text, "%Y%m%d").date()  # noqa: DTZ007
            except ValueError:
                errors.add(row_number, COLUMNS[1], date_text, _("Not a date as YYYYMMDD."))
                is_bad = True
        if not _NUMBER.fullmatch(count_text) or int(count_text) == 0:
            errors.add(row_number, COLUMNS[2], count_text, _("Not a number of CDs above 0."))
            is_bad = True
        if not _AMOUNT.fullmatch(amount_text):
            errors.add(row_number, COLUMNS[3], amount_text, _("Not an amount of 0 or more."))
            is_bad = True
        if is_bad or order_date is None:
            continue
        purchases.append(
            Purchase(
                row_number,
                customer_id,
                order_date,
                int(count_text),
                Decimal(amount_text).quantize(CENT, rounding=ROUND_HALF_UP),
            )
        )
    if width is None:
        raise FileRefused(_("The file holds no purchases."))
    seen: dict[tuple[str, dt.date], int] = {}
    for purchase in purchases:
        key = (purchase.customer_id, purchase.order_date)
        seen[key] = seen.get(key, 0) + 1
        purchase.number = f"CDNOW-{purchase.customer_id}-{purchase.order_date:%Y%m%d}-{seen[key]}"
    return purchases


def plan(path: Path, errors: RowErrors, context: Context, owner: str | None) -> Plan:
    """Check the file; the owner (a username, or None for the "import" rep) is resolved when
    writing, so that a dry run creates nobody."""
    if owner and not User.objects.filter(username=owner).exists():
        raise FileRefused(_("No user with the username %(name)r.") % {"name": owner})
    progress = context.progress
    progress.start(_("Reading purchases"), None)
    purchases = read_purchases(path, errors)
    progress.start(_("Checking purchases"), len(purchases))
    counts = {
        "customers": Counts(),
        "products": Counts(),
        "orders": Counts(),
        "order_lines": Counts(),
    }
    codes = sorted({f"CDNOW-{purchase.customer_id}" for purchase in purchases})
    existing_customers: dict[str, int] = {}
    for chunk in in_chunks(codes):
        existing_customers.update(Customer.objects.filter(code__in=chunk).values_list("code", "id"))
    new_codes = [code for code in codes if code not in existing_customers]
    counts["customers"].created = len(new_codes)
    counts["customers"].unchanged = len(existing_customers)
    product = Product.objects.filter(code=PRODUCT_CODE).first()
    counts["products"].created = 0 if product else 1
    counts["products"].unchanged = 1 if product else 0

    existing_orders: dict[str, tuple[Decimal, Decimal]] = {}
    for chunk in in_chunks([purchase.number for purchase in purchases]):
        for number, quantity, amount in OrderLine.objects.filter(
            order__number__in=chunk
        ).values_list("order__number", "quantity", "amount"):
            existing_orders[number] = (quantity, amount)
    new: list[Purchase] = []
    for purchase in purchases:
        found = existing_orders.get(purchase.number)
        if found is None:
            new.append(purchase)
            counts["orders"].created += 1
            counts["order_lines"].created += 1
        elif found == (purchase.quantity, purchase.amount):
            counts["orders"].unchanged += 1
            counts["order_lines"].unchanged += 1
        else:
            errors.add(
                purchase.row_number,
                COLUMNS[3],
                str(purchase.amount),
                _("Order %(number)s exists with %(quantity)s CDs for %(amount)s.")
                % {"number": purchase.number, "quantity": found[0], "amount": found[1]},
            )
            counts["orders"].refused += 1
            counts["order_lines"].refused += 1
    counts["orders"].refused = counts["order_lines"].refused = len(errors.refused_rows)
    progress.finish()

    def write() -> None:
        _write(context, owner, new_codes, new)

    return Plan(counts=counts, write=write)


def _write(
    context: Context, username: str | None, new_codes: list[str], new: list[Purchase]
) -> None:
    progress = context.progress
    owner = import_owner(username)
    reason = _("import of %(file)s") % {"file": context.file_name}
    progress.start(_("Writing customers"), len(new_codes))
    for start in range(0, len(new_codes), 2_000):
        batch = [
            Customer(
                code=code,
                name=f"CDNOW customer {code.removeprefix('CDNOW-')}",
                kind=CustomerKind.CONSUMER,
                owner=owner,
                currency=CURRENCY,
            )
            for code in new_codes[start : start + 2_000]
        ]
        for customer in batch:
            customer.search_text = search_text_of(
                name=customer.name, city="", code=customer.code, phone=""
            )
        bulk_create_with_history(
            batch,
            Customer,
            batch_size=2_000,
            default_user=context.actor,
            default_change_reason=reason,
        )
        progress.advance(len(batch))
    category, _created = ProductCategory.objects.get_or_create(
        code=CATEGORY_CODE, defaults={"name": "CDNOW"}
    )
    product = Product.objects.filter(code=PRODUCT_CODE).first()
    if product is None:
        product = bulk_create_with_history(
            [
                Product(
                    code=PRODUCT_CODE,
                    name="CD",
                    category=category,
                    unit="CD",
                    list_price=ZERO,
                    standard_cost=ZERO,
                    currency=CURRENCY,
                )
            ],
            Product,
            default_user=context.actor,
            default_change_reason=reason,
        )[0]
    customer_ids: dict[str, int] = {}
    codes = sorted({f"CDNOW-{purchase.customer_id}" for purchase in new})
    for chunk in in_chunks(codes):
        customer_ids.update(Customer.objects.filter(code__in=chunk).values_list("code", "id"))
    progress.start(_("Writing orders"), 2 * len(new))
    ids = bulk.reserve_ids(Order, len(new))
    now = context.now
    order_rows = []
    line_rows = []
    unit_cost = product.standard_cost
    for order_id, purchase in zip(ids, new, strict=True):
        quantity = Decimal(purchase.quantity)
        unit_price = (purchase.amount / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        cost = (quantity * unit_cost).quantize(CENT, rounding=ROUND_HALF_UP)
        customer_id = customer_ids[f"CDNOW-{purchase.customer_id}"]
        order_rows.append(
            (
                order_id,
                purchase.number,
                customer_id,
                owner.pk,
                OrderState.CONFIRMED.value,
                purchase.order_date,
                None,
                PaymentMethod.CASH.value,
                CURRENCY,
                purchase.amount,
                cost,
                "",
                now,
                now,
            )
        )
        line_rows.append(
            (order_id, 1, product.pk, quantity, unit_price, unit_cost, ZERO, purchase.amount, cost)
        )
    bulk.insert_rows(Order, ORDER_FIELDS, order_rows, on_batch=progress.advance)
    bulk.insert_rows(OrderLine, LINE_FIELDS, line_rows, on_batch=progress.advance)
    progress.finish()
    touched = sorted(set(customer_ids.values()))
    progress.start(_("Refreshing purchase statistics"), len(touched))
    for start in range(0, len(touched), 5_000):
        chunk = touched[start : start + 5_000]
        customer_purchase_stats_refresh(customer_ids=chunk)
        progress.advance(len(chunk))
    progress.finish()
