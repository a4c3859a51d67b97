import datetime as dt
from decimal import Decimal

import factory

from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import Invoice


class InvoiceFactory(factory.django.DjangoModelFactory[Invoice]):
    class Meta:
        model = Invoice

    number = factory.Sequence(lambda n: f"INV{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    issue_date = dt.date(2026, 1, 10)
    payment_terms_days = 30
    due_date = factory.LazyAttribute(
        lambda o: o.issue_date + dt.timedelta(days=o.payment_terms_days)
    )
    amount = Decimal("1000.00")
    open_amount = factory.LazyAttribute(lambda o: o.amount)
