"""Contacts: upsert by customer code and contact name. Empty cells leave fields as they are."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kehu.customers.models import BirthdayCalendar, Contact, ContactRole
from kehu.imports.kinds.base import (
    REPORT_EVERY,
    Cells,
    Context,
    Counts,
    Plan,
    flag_duplicates,
    in_chunks,
)
from kehu.imports.kinds.lookups import Customers
from kehu.imports.validation import (
    ChoiceParser,
    MappedTable,
    RowErrors,
    max_length_of,
    parse_birthday,
    parse_boolean,
    parse_email,
    parse_text,
)

WRITE_BATCH = 1_000


def _text(field_name: str) -> Callable[[str], str]:
    return partial(parse_text, max_length=max_length_of(Contact, field_name))


def plan(mapped: MappedTable, errors: RowErrors, context: Context) -> Plan:
    table = mapped.table
    progress = context.progress
    progress.start(_("Checking contacts"), len(table))
    counts = {"contacts": Counts()}
    customer_codes = mapped.values("customer_code")
    names = mapped.values("name")
    keys = [
        (code, name) if code and name else None
        for code, name in zip(customer_codes, names, strict=True)
    ]
    flag_duplicates(
        mapped,
        errors,
        keys,
        column="name",
        label=lambda key: (
            _("Contact %(name)s of customer %(code)s") % {"name": key[1], "code": key[0]}
        ),
    )
    customers = Customers(customer_codes)
    existing: dict[tuple[int, str], list[Contact]] = {}
    customer_ids = [reference.id for reference in customers.by_code.values()]
    for chunk in in_chunks(customer_ids):
        for contact in Contact.objects.filter(customer_id__in=chunk):
            existing.setdefault((contact.customer_id, contact.name), []).append(contact)

    parsers: list[tuple[str, Callable[[str], Any]]] = [
        ("role", ChoiceParser(ContactRole)),
        ("title", _text("title")),
        ("phone", _text("phone")),
        ("email", lambda value: parse_email(_text("email")(value))),
        ("birthday_calendar", ChoiceParser(BirthdayCalendar)),
        ("birth_month_is_leap", parse_boolean),
        ("preferences", _text("preferences")),
        ("is_primary", parse_boolean),
    ]
    parsers = [parser for parser in parsers if mapped.has(parser[0])]
    columns = {key: mapped.values(key) for key, _parse in parsers}
    birthdays = mapped.values("birthday")
    name_parser = _text("name")
    cells = Cells(mapped, errors)
    new: list[Contact] = []
    changed: list[tuple[Contact, set[str]]] = []
    for index, row_number in enumerate(table.row_numbers):
        if index % REPORT_EVERY == 0:
            progress.advance(REPORT_EVERY if index else 0)
        cells.at(row_number)
        customer = cells.parse("customer_code", customer_codes[index], customers, required=True)
        name = cells.parse("name", names[index], name_parser, required=True)
        values: dict[str, Any] = {}
        for key, parse in parsers:
            value = cells.parse(key, columns[key][index], parse)
            if value is not None:
                values[key] = value
        birthday = cells.parse("birthday", birthdays[index], parse_birthday)
        if birthday is not None:
            values["birth_year"], values["birth_month"], values["birth_day"] = birthday
        if cells.is_bad or row_number in errors.refused_rows:
            counts["contacts"].refused += 1
            continue
        found = existing.get((customer.id, name), [])
        if len(found) > 1:
            cells.fail(
                "name",
                name,
                _(
                    "Customer %(code)s has %(count)d contacts named %(name)s; change them on "
                    "the card."
                )
                % {"code": customer_codes[index], "count": len(found), "name": name},
            )
            counts["contacts"].refused += 1
            continue
        contact = found[0] if found else Contact(customer_id=customer.id, name=name)
        fields = {key for key, value in values.items() if getattr(contact, key) != value}
        for key in fields:
            setattr(contact, key, values[key])
        if contact.birth_month_is_leap and contact.birthday_calendar != BirthdayCalendar.LUNAR:
            cells.fail(
                "birth_month_is_leap",
                mapped.values("birth_month_is_leap")[index],
                _("Only a lunar birthday can fall in a leap month."),
            )
            counts["contacts"].refused += 1
            continue
        if not found:
            new.append(contact)
            counts["contacts"].created += 1
        elif fields:
            changed.append((contact, fields))
            counts["contacts"].updated += 1
        else:
            counts["contacts"].unchanged += 1
    progress.finish()

    def write() -> None:
        reason = _("import of %(file)s") % {"file": context.file_name}
        progress.start(_("Writing contacts"), len(new) + len(changed))
        for start in range(0, len(new), WRITE_BATCH):
            batch = new[start : start + WRITE_BATCH]
            bulk_create_with_history(
                batch,
                Contact,
                batch_size=WRITE_BATCH,
                default_user=context.actor,
                default_change_reason=reason,
            )
            progress.advance(len(batch))
        if changed:
            fields = sorted(
                {name for _contact, names in changed for name in names} | {"updated_at"}
            )
            contacts = []
            for contact, _names in changed:
                contact.updated_at = context.now
                contacts.append(contact)
            bulk_update_with_history(
                contacts,
                Contact,
                fields=fields,
                batch_size=WRITE_BATCH,
                default_user=context.actor,
                default_change_reason=reason,
            )
        progress.finish()

    return Plan(counts=counts, write=write)
