"""Products: everyone logged in may read them."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from ninja import Path, Query, Router

from kehu.catalog.models import Product
from kehu.catalog.schemas import ProductListQuery, ProductOut, ProductPageOut
from kehu.core.errors import NotFound
from kehu.core.schemas import MAX_ID, error_responses, page_of

router = Router(tags=["catalog"])


@router.get(
    "/products",
    response={200: ProductPageOut, **error_responses()},
    summary="List products",
)
def products_list(request: HttpRequest, filters: Query[ProductListQuery]) -> object:
    products = Product.objects.select_related("category")
    if filters.search:
        term = filters.search.strip()
        products = products.filter(Q(code__istartswith=term) | Q(name__icontains=term))
    if filters.category:
        products = products.filter(category__code=filters.category)
    if filters.is_active is not None:
        products = products.filter(is_active=filters.is_active)
    return page_of(products.order_by("code", "id"), filters)


@router.get(
    "/products/{product_id}",
    response={200: ProductOut, **error_responses(404)},
    summary="A product",
)
def products_retrieve(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return product
