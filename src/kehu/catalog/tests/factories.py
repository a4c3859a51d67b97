from decimal import Decimal

import factory

from kehu.catalog.models import Product, ProductCategory


class ProductCategoryFactory(factory.django.DjangoModelFactory[ProductCategory]):
    class Meta:
        model = ProductCategory
        django_get_or_create = ("code",)

    code = "general"
    name = "通用"


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    category = factory.SubFactory(ProductCategoryFactory)
    list_price = Decimal("100.00")
    standard_cost = Decimal("60.00")
