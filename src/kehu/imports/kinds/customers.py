"""Customers 客户资料卡: upsert by customer code.

An empty cell leaves the field as it is on an existing customer (and takes the default on a new
one); the tags cell, when filled, replaces the customer's tags. A new customer without an owner
belongs to the importing user.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kehu.core.money import default_currency
from kehu.customers.models import (
    CompanySize,
    Customer,
    CustomerKind,
    Ownership,
    SourceChannel,
    Tag,
)
from kehu.customers.search import SEARCHED_FIELDS, search_text_of
from kehu.imports.kinds.base import (
    REPORT_EVERY,
    Cells,
    Context,
    Counts,
    Plan,
    flag_duplicates,
    in_chunks,
)
from kehu.imports.kinds.lookups import OrgUnits, Users
from kehu.imports.validation import (
    ChoiceParser,
    DecimalParser,
    MappedTable,
    RowErrors,
    max_length_of,
    money_parser,
    parse_email,
    parse_tags,
    parse_text,
    parse_whole_number,
)

WRITE_BATCH = 1_000


def _text(field_name: str) -> Callable[[str], str]:
    return partial(parse_text, max_length=max_length_of(Customer, field_name))


def _search_text(customer: Customer) -> str:
    return search_text_of(
        name=customer.name, city=customer.city, code=customer.code, phone=customer.phone
    )


def field_parsers(mapped: MappedTable) -> list[tuple[str, str, Callable[[str], Any]]]:
    """(column key, model attribute, parser) for every column but code and tags."""
    users = Users(mapped.values("owner"))
    parsers: list[tuple[str, str, Callable[[str], Any]]] = [
        ("name", "name", _text("name")),
        ("kind", "kind", ChoiceParser(CustomerKind)),
        ("industry", "industry", _text("industry")),
        ("ownership", "ownership", ChoiceParser(Ownership)),
        ("size", "size", ChoiceParser(CompanySize)),
        ("region", "region_id", OrgUnits()),
        ("territory", "territory", _text("territory")),
        ("province", "province", _text("province")),
        ("city", "city", _text("city")),
        ("address", "address", _text("address")),
        ("postal_code", "postal_code", _text("postal_code")),
        (
            "latitude",
            "latitude",
            DecimalParser(places=6, minimum=Decimal(-90), maximum=Decimal(90), round_half_up=True),
        ),
        (
            "longitude",
            "longitude",
            DecimalParser(
                places=6, minimum=Decimal(-180), maximum=Decimal(180), round_half_up=True
            ),
        ),
        ("phone", "phone", _text("phone")),
        ("email", "email", lambda value: parse_email(_text("email")(value))),
        ("source_channel", "source_channel", ChoiceParser(SourceChannel)),
        ("competitor", "competitor", _text("competitor")),
        ("owner", "owner_id", users),
        ("notes", "notes", _text("notes")),
        ("credit_limit", "credit_limit", money_parser()),
        (
            "payment_terms_days",
            "payment_terms_days",
            partial(parse_whole_number, minimum=0, maximum=32767),
        ),
    ]
    return [parser for parser in parsers if mapped.has(parser[0])]


def plan(mapped: MappedTable, errors: RowErrors, context: Context) -> Plan:
    table = mapped.table
    progress = context.progress
    progress.start(_("Checking customers"), len(table))
    counts = {"customers": Counts(), "tags": Counts()}
    codes = mapped.values("code")
    flag_duplicates(
        mapped,
        errors,
        codes,
        column="code",
        label=lambda code: _("Customer code %(code)s") % {"code": code},
    )

    existing: dict[str, Customer] = {}
    for chunk in in_chunks({code for code in codes if code}):
        for found in Customer.objects.filter(code__in=chunk):
            existing[found.code] = found
    current_tags: dict[int, set[str]] = {}
    if mapped.has("tags") and existing:
        through = Customer.tags.through
        for chunk in in_chunks([customer.pk for customer in existing.values()]):
            for customer_id, name in through.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "tag__name"
            ):
                current_tags.setdefault(customer_id, set()).add(name)

    parsers = field_parsers(mapped)
    columns = {key: mapped.values(key) for key, _attribute, _parse in parsers}
    tag_cells = mapped.values("tags")
    tag_parser = partial(parse_tags, max_length=max_length_of(Tag, "name") or 60)
    code_parser = _text("code")
    actor_id = context.actor.pk if context.actor else None
    cells = Cells(mapped, errors)

    new: list[Customer] = []
    new_tags: list[list[str]] = []
    changed: dict[int, tuple[Customer, set[str]]] = {}
    retagged: dict[int, list[str]] = {}
    for index, row_number in enumerate(table.row_numbers):
        if index % REPORT_EVERY == 0:
            progress.advance(REPORT_EVERY if index else 0)
        cells.at(row_number)
        code = cells.parse("code", codes[index], code_parser, required=True)
        values: dict[str, Any] = {}
        for key, attribute, parse in parsers:
            value = cells.parse(key, columns[key][index], parse, required=key == "name")
            if value is not None:
                values[attribute] = value
        tags = cells.parse("tags", tag_cells[index], tag_parser)
        if cells.is_bad or row_number in errors.refused_rows:
            counts["customers"].refused += 1
            continue
        customer = existing.get(code)
        if customer is None:
            values.setdefault("owner_id", actor_id)
            if values["owner_id"] is None:
                cells.fail(
                    "owner",
                    None,
                    _("A new customer needs an owner: fill the owner column or import as a user."),
                )
                counts["customers"].refused += 1
                continue
            customer = Customer(code=code, currency=default_currency(), **values)
            customer.search_text = _search_text(customer)
            new.append(customer)
            new_tags.append(tags or [])
            counts["customers"].created += 1
            continue
        fields = {
            attribute
            for attribute, value in values.items()
            if getattr(customer, attribute) != value
        }
        for attribute in fields:
            setattr(customer, attribute, values[attribute])
        if SEARCHED_FIELDS.intersection(fields):
            customer.search_text = _search_text(customer)
            fields.add("search_text")
        tags_change = tags is not None and set(tags) != current_tags.get(customer.pk, set())
        if tags_change:
            retagged[customer.pk] = tags
        if fields or tags_change:
            changed[customer.pk] = (customer, fields)
            counts["customers"].updated += 1
        else:
            counts["customers"].unchanged += 1
    progress.finish()

    all_tag_names = {name for tags in new_tags for name in tags} | {
        name for tags in retagged.values() for name in tags
    }
    known_tags = set(Tag.objects.filter(name__in=all_tag_names).values_list("name", flat=True))
    counts["tags"].created = len(all_tag_names - known_tags)
    counts["tags"].unchanged = len(known_tags)

    def write() -> None:
        _write(context, new, new_tags, list(changed.values()), retagged, all_tag_names)

    return Plan(counts=counts, write=write)


def _write(
    context: Context,
    new: list[Customer],
    new_tags: list[list[str]],
    changed: list[tuple[Customer, set[str]]],
    retagged: dict[int, list[str]],
    tag_names: set[str],
) -> None:
    progress = context.progress
    reason = _("import of %(file)s") % {"file": context.file_name}
    progress.start(_("Writing customers"), len(new) + len(changed))
    created: list[Customer] = []
    for start in range(0, len(new), WRITE_BATCH):
        batch = new[start : start + WRITE_BATCH]
        created.extend(
            bulk_create_with_history(
                batch,
                Customer,
                batch_size=WRITE_BATCH,
                default_user=context.actor,
                default_change_reason=reason,
            )
        )
        progress.advance(len(batch))
    if changed:
        fields = sorted({name for _customer, names in changed for name in names} | {"updated_at"})
        customers = []
        for customer, _names in changed:
            customer.updated_at = context.now
            customers.append(customer)
        for start in range(0, len(customers), WRITE_BATCH):
            batch = customers[start : start + WRITE_BATCH]
            bulk_update_with_history(
                batch,
                Customer,
                fields=fields,
                batch_size=WRITE_BATCH,
                default_user=context.actor,
                default_change_reason=reason,
            )
            progress.advance(len(batch))
    if tag_names:
        Tag.objects.bulk_create([Tag(name=name) for name in tag_names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "id"))
        through = Customer.tags.through
        for chunk in in_chunks(list(retagged)):
            through.objects.filter(customer_id__in=chunk).delete()
        links = [
            through(customer_id=customer.pk, tag_id=tag_ids[name])
            for customer, tags in zip(created, new_tags, strict=True)
            for name in tags
        ]
        links += [
            through(customer_id=customer_id, tag_id=tag_ids[name])
            for customer_id, tags in retagged.items()
            for name in tags
        ]
        through.objects.bulk_create(links, batch_size=WRITE_BATCH)
    progress.finish()
