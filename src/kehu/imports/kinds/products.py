"""Products: upsert by product code; a category is found by its code and created if new."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kehu.catalog.models import Product, ProductCategory
from kehu.core.money import ZERO, default_currency
from kehu.imports.kinds.base import (
    REPORT_EVERY,
    Cells,
    Context,
    Counts,
    Plan,
    flag_duplicates,
    in_chunks,
)
from kehu.imports.validation import (
    MappedTable,
    RowErrors,
    max_length_of,
    money_parser,
    parse_boolean,
    parse_text,
)

WRITE_BATCH = 1_000


def _text(model: type, field_name: str) -> Callable[[str], str]:
    return partial(parse_text, max_length=max_length_of(model, field_name))


def plan(mapped: MappedTable, errors: RowErrors, context: Context) -> Plan:
    table = mapped.table
    progress = context.progress
    progress.start(_("Checking products"), len(table))
    counts = {"products": Counts(), "product_categories": Counts()}
    codes = mapped.values("code")
    flag_duplicates(
        mapped,
        errors,
        codes,
        column="code",
        label=lambda code: _("Product code %(code)s") % {"code": code},
    )
    existing: dict[str, Product] = {}
    for chunk in in_chunks({code for code in codes if code}):
        for found in Product.objects.filter(code__in=chunk):
            existing[found.code] = found
    categories = {category.code: category for category in ProductCategory.objects.all()}

    parsers: list[tuple[str, Callable[[str], Any]]] = [
        ("name", _text(Product, "name")),
        ("unit", _text(Product, "unit")),
        ("list_price", money_parser()),
        ("standard_cost", money_parser()),
        ("is_active", parse_boolean),
    ]
    parsers = [parser for parser in parsers if mapped.has(parser[0])]
    columns = {key: mapped.values(key) for key, _parse in parsers}
    category_codes = mapped.values("category_code")
    category_names = mapped.values("category_name")
    code_parser = _text(Product, "code")
    category_code_parser = _text(ProductCategory, "code")
    category_name_parser = _text(ProductCategory, "name")
    cells = Cells(mapped, errors)

    new: list[Product] = []
    changed: list[tuple[Product, set[str]]] = []
    category_names_given: dict[str, str] = {}  # category code → the first name given for it
    used_categories: set[str] = set()
    for index, row_number in enumerate(table.row_numbers):
        if index % REPORT_EVERY == 0:
            progress.advance(REPORT_EVERY if index else 0)
        cells.at(row_number)
        code = cells.parse("code", codes[index], code_parser, required=True)
        values: dict[str, Any] = {}
        for key, parse in parsers:
            value = cells.parse(key, columns[key][index], parse, required=key == "name")
            if value is not None:
                values[key] = value
        category_code = cells.parse(
            "category_code", category_codes[index], category_code_parser, required=True
        )
        category_name = cells.parse("category_name", category_names[index], category_name_parser)
        if category_code and category_name:
            given = category_names_given.setdefault(category_code, category_name)
            if given != category_name:
                cells.fail(
                    "category_name",
                    category_name,
                    _("Category %(code)s is named %(name)s on an earlier row.")
                    % {"code": category_code, "name": given},
                )
        if cells.is_bad or row_number in errors.refused_rows:
            counts["products"].refused += 1
            continue
        used_categories.add(category_code)
        product = existing.get(code)
        if product is None:
            values.setdefault("list_price", ZERO)
            values.setdefault("standard_cost", ZERO)
            product = Product(code=code, currency=default_currency(), **values)
            product._category_code = category_code  # type: ignore[attr-defined]
            new.append(product)
            counts["products"].created += 1
            continue
        fields = {key for key, value in values.items() if getattr(product, key) != value}
        for key in fields:
            setattr(product, key, values[key])
        category = categories.get(category_code)
        if category is None or category.pk != product.category_id:
            fields.add("category")
        product._category_code = category_code  # type: ignore[attr-defined]
        if fields:
            changed.append((product, fields))
            counts["products"].updated += 1
        else:
            counts["products"].unchanged += 1
    progress.finish()
    new_categories = [
        ProductCategory(code=code, name=category_names_given.get(code, code))
        for code in sorted(used_categories - set(categories))
    ]
    renamed_categories = []
    for code in sorted(used_categories & set(categories)):
        name = category_names_given.get(code)
        if name and categories[code].name != name:
            categories[code].name = name
            renamed_categories.append(categories[code])
    counts["product_categories"].created = len(new_categories)
    counts["product_categories"].updated = len(renamed_categories)
    counts["product_categories"].unchanged = len(used_categories & set(categories)) - len(
        renamed_categories
    )

    def write() -> None:
        reason = _("import of %(file)s") % {"file": context.file_name}
        progress.start(_("Writing products"), len(new) + len(changed))
        ProductCategory.objects.bulk_create(new_categories)
        if renamed_categories:
            ProductCategory.objects.bulk_update(renamed_categories, ["name"])
        by_code = {
            category.code: category
            for category in ProductCategory.objects.filter(code__in=used_categories)
        }
        for product in new:
            product.category = by_code[product._category_code]  # type: ignore[attr-defined]
        for start in range(0, len(new), WRITE_BATCH):
            batch = new[start : start + WRITE_BATCH]
            bulk_create_with_history(
                batch,
                Product,
                batch_size=WRITE_BATCH,
                default_user=context.actor,
                default_change_reason=reason,
            )
            progress.advance(len(batch))
        if changed:
            fields = sorted(
                {name for _product, names in changed for name in names} | {"updated_at"}
            )
            products = []
            for product, names in changed:
                if "category" in names:
                    product.category = by_code[product._category_code]  # type: ignore[attr-defined]
                product.updated_at = context.now
                products.append(product)
            bulk_update_with_history(
                products,
                Product,
                fields=fields,
                batch_size=WRITE_BATCH,
                default_user=context.actor,
                default_change_reason=reason,
            )
        progress.finish()

    return Plan(counts=counts, write=write)
