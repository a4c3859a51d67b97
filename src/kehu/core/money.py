"""Money is Decimal, two places, with a currency code. Never a float in the ledger."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import models

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def default_currency() -> str:
    return str(settings.KEHU["CURRENCY"])


def to_money(value: object) -> Decimal:
    """Parse a value to a Decimal rounded half-up to cents; raises ValueError on junk."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError) as error:
        raise ValueError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class MoneyField(models.DecimalField):
    """numeric(18, 2) — up to 10^16 yuan, exact."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


def currency_field() -> models.CharField:
    """ISO 4217 code. The column default is CNY; services stamp the company currency."""
    return models.CharField("currency", max_length=3, default="CNY")
