"""API schemas for products."""

from __future__ import annotations

from ninja import Field, Schema

from kehu.core.schemas import MoneyOut, PageQuery, RefOut, Text


class ProductListQuery(PageQuery):
    search: Text = Field("", max_length=100, description="code prefix or name")
    category: Text = Field("", max_length=40, description="category code")
    is_active: bool | None = Field(None, description="only active (true) or inactive (false)")


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: RefOut
    unit: str
    list_price: MoneyOut
    standard_cost: MoneyOut
    currency: str
    is_active: bool


class ProductPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProductOut]
