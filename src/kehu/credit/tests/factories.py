import datetime as dt
from decimal import Decimal

import factory

from kehu.accounts.tests.factories import UserFactory
from kehu.credit.models import (
    CreditGroup,
    CreditLine,
    CreditLineState,
    CreditSecurity,
    CreditSurvey,
    SecurityKind,
)
from kehu.customers.tests.factories import CustomerFactory


class CreditSurveyFactory(factory.django.DjangoModelFactory[CreditSurvey]):
    """A sound company's statements: quick ratio 1.2, debt-to-asset 0.5, turnover 4.0,
    net margin 0.10, capital up 20% in three years."""

    class Meta:
        model = CreditSurvey

    customer = factory.SubFactory(CustomerFactory)
    surveyed_on = dt.date(2026, 1, 15)
    fiscal_year = 2025
    quick_assets = Decimal("1200000.00")
    current_assets = Decimal("2000000.00")
    current_liabilities = Decimal("1000000.00")
    total_assets_start = Decimal("4500000.00")
    total_assets_end = Decimal("5500000.00")
    total_liabilities = Decimal("2750000.00")
    sales_revenue = Decimal("20000000.00")
    net_profit = Decimal("2000000.00")
    equity = Decimal("2750000.00")
    capital_year_1 = Decimal("2000000.00")
    capital_year_2 = Decimal("2200000.00")
    capital_year_3 = Decimal("2400000.00")
    profit_year_1 = Decimal("1500000.00")
    profit_year_2 = Decimal("1800000.00")
    profit_year_3 = Decimal("2000000.00")


class CreditGroupFactory(factory.django.DjangoModelFactory[CreditGroup]):
    class Meta:
        model = CreditGroup

    code = factory.Sequence(lambda n: f"G{n:04d}")
    name = factory.Sequence(lambda n: f"集团{n}")


class CreditLineFactory(factory.django.DjangoModelFactory[CreditLine]):
    class Meta:
        model = CreditLine

    customer = factory.SubFactory(CustomerFactory)
    group = None
    amount = Decimal("100000.00")
    payment_terms_days = 30
    valid_from = dt.date(2026, 1, 1)
    valid_until = dt.date(2026, 12, 31)
    state = CreditLineState.ACTIVE
    approved_by = factory.SubFactory(UserFactory)


class CreditSecurityFactory(factory.django.DjangoModelFactory[CreditSecurity]):
    class Meta:
        model = CreditSecurity

    customer = factory.SubFactory(CustomerFactory)
    kind = SecurityKind.GUARANTEE
    description = "母公司担保"
    amount = Decimal("50000.00")
    valid_from = dt.date(2026, 1, 1)
