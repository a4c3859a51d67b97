"""Products through the API: everyone logged in reads them."""

from __future__ import annotations

from decimal import Decimal

from kehu.catalog.tests.factories import ProductCategoryFactory, ProductFactory


def test_a_rep_lists_products_with_exact_prices(client, organisation):
    category = ProductCategoryFactory.create(code="bolts", name="紧固件")
    bolt = ProductFactory.create(
        code="B-1",
        name="螺栓",
        category=category,
        list_price=Decimal("12.30"),
        standard_cost=Decimal("7.05"),
        unit="箱",
    )
    ProductFactory.create(code="X-9", name="旧货", is_active=False)
    client.force_login(organisation.rep)

    response = client.get("/api/products?is_active=true")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "limit": 50,
        "offset": 0,
        "items": [
            {
                "id": bolt.pk,
                "code": "B-1",
                "name": "螺栓",
                "category": {"id": category.pk, "code": "bolts", "name": "紧固件"},
                "unit": "箱",
                "list_price": "12.30",
                "standard_cost": "7.05",
                "currency": "CNY",
                "is_active": True,
            }
        ],
    }


def test_products_filter_by_search_and_category(client, organisation):
    ProductFactory.create(
        code="B-1", name="螺栓", category=ProductCategoryFactory.create(code="bolts")
    )
    ProductFactory.create(
        code="N-1", name="螺母", category=ProductCategoryFactory.create(code="nuts")
    )
    client.force_login(organisation.other_rep)

    def codes(query: str) -> list[str]:
        return [item["code"] for item in client.get(f"/api/products?{query}").json()["items"]]

    assert codes("search=螺") == ["B-1", "N-1"]
    assert codes("search=n-") == ["N-1"]
    assert codes("category=bolts") == ["B-1"]


def test_a_product_is_read_by_id_and_a_missing_one_answers_404(client, organisation):
    product = ProductFactory.create(code="B-1")
    client.force_login(organisation.rep)

    found = client.get(f"/api/products/{product.pk}")
    missing = client.get(f"/api/products/{product.pk + 1}")

    assert found.status_code == 200
    assert found.json()["code"] == "B-1"
    assert missing.status_code == 404
    assert missing.json() == {"message": f"product {product.pk + 1} not found", "detail": None}
