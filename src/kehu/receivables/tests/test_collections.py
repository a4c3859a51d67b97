"""Follow-up: dunning levels, the chase list per person, promises, vanished debtors,
write-off reversal and the event rows they write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.collections import (
    chase_list,
    collection_note_add,
    dunning_level_for,
    dunning_levels,
    promise_to_pay_record,
    promises_of,
    promises_review,
    vanished_debtors,
    write_offs_visible_to,
)
from kehu.receivables.models import (
    CollectionNote,
    DunningAction,
    PromiseState,
    PromiseToPay,
    ReceivableEvent,
    ReceivableEventKind,
)
from kehu.receivables.services import (
    invoice_create,
    invoice_open_amount_from_ledger,
    payment_record,
    write_off_create,
    write_off_reverse,
)

D = Decimal


@pytest.fixture
def today():
    return timezone.localdate()


def _invoice(customer, number, *, days_past_due, today, amount="1000"):
    due = today - dt.timedelta(days=days_past_due)
    return invoice_create(
        customer=customer,
        number=number,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=D(amount),
    )


@pytest.mark.django_db
def test_default_levels_and_the_level_reached_by_days():
    levels = dunning_levels()

    assert [(lvl.days_past_due, lvl.action) for lvl in levels] == [
        (7, DunningAction.REMINDER),
        (30, DunningAction.CALL),
        (60, DunningAction.VISIT),
        (90, DunningAction.STOP_CREDIT),
        (180, DunningAction.LEGAL),
    ]
    reached = {
        days: (dunning_level_for(days, levels) or None) for days in (0, 6, 7, 29, 30, 89, 90, 400)
    }
    assert {days: (lvl.action if lvl else None) for days, lvl in reached.items()} == {
        0: None,
        6: None,
        7: "reminder",
        29: "reminder",
        30: "call",
        89: "visit",
        90: "stop_credit",
        400: "legal",
    }


@pytest.fixture
def book(organisation, today):
    east = CustomerFactory.create(code="E1", owner=organisation.rep)
    east2 = CustomerFactory.create(code="E2", owner=organisation.customer_manager)
    west = CustomerFactory.create(code="W1", owner=organisation.other_rep)
    return {
        "east": east,
        "east2": east2,
        "west": west,
        "e_7": _invoice(east, "E-7", days_past_due=7, today=today, amount="100"),
        "e_95": _invoice(east, "E-95", days_past_due=95, today=today, amount="300"),
        "e_6": _invoice(east, "E-6", days_past_due=6, today=today),
        "e2_30": _invoice(east2, "E2-30", days_past_due=30, today=today, amount="50"),
        "w_200": _invoice(west, "W-200", days_past_due=200, today=today, amount="700"),
    }


def test_chase_list_per_person_with_levels_and_actions(organisation, book, today):
    mine = chase_list(user=organisation.rep, today=today)

    assert [row.customer.code for row in mine] == ["E1"]
    row = mine[0]
    assert [(i.invoice.number, i.days_past_due, i.level.action) for i in row.invoices] == [
        ("E-95", 95, "stop_credit"),
        ("E-7", 7, "reminder"),
    ]
    assert row.action == "stop_credit"
    assert row.overdue_amount == D("400.00")

    everyone = chase_list(user=organisation.finance, today=today)
    assert [(r.customer.code, r.action) for r in everyone] == [
        ("W1", "legal"),
        ("E1", "stop_credit"),
        ("E2", "call"),
    ]
    managers = chase_list(user=organisation.customer_manager, today=today)
    assert [r.customer.code for r in managers] == ["E1", "E2"]
    one_person = chase_list(
        user=organisation.finance, today=today, person_id=organisation.customer_manager.pk
    )
    assert [r.customer.code for r in one_person] == ["E2"]
    call_level = next(level for level in dunning_levels() if level.action == "call")
    assert [
        r.customer.code
        for r in chase_list(user=organisation.finance, today=today, level_id=call_level.pk)
    ] == ["E2"]


def test_broken_promises_come_first(organisation, book, today):
    promise_to_pay_record(
        customer=book["east2"],
        actor=organisation.customer_manager,
        amount=D("50"),
        made_on=today - dt.timedelta(days=10),
        promised_for=today - dt.timedelta(days=1),
    )

    everyone = chase_list(user=organisation.finance, today=today)

    assert [r.customer.code for r in everyone] == ["E2", "W1", "E1"]
    assert everyone[0].broken_promise is not None


def test_a_promise_is_kept_or_broken_and_the_review_writes_events(organisation, book, today):
    east = book["east"]
    made = today - dt.timedelta(days=20)
    kept = promise_to_pay_record(
        customer=east,
        actor=organisation.rep,
        amount=D("300"),
        made_on=made,
        promised_for=today - dt.timedelta(days=5),
        invoices=[book["e_95"]],
    )
    broken = promise_to_pay_record(
        customer=book["west"],
        actor=organisation.other_rep,
        amount=D("700"),
        made_on=made,
        promised_for=today - dt.timedelta(days=1),
    )
    still_open = promise_to_pay_record(
        customer=book["east2"],
        actor=organisation.customer_manager,
        amount=D("50"),
        made_on=today,
        promised_for=today + dt.timedelta(days=3),
    )
    # East pays 300 before the date; west pays 699.99 only (below the amount).
    payment_record(
        customer=east, number="P-E", received_on=today - dt.timedelta(days=6), amount=D("300")
    )
    payment_record(
        customer=book["west"],
        number="P-W",
        received_on=today - dt.timedelta(days=3),
        amount=D("699.99"),
    )

    counts = promises_review(today=today, actor=organisation.finance)

    assert counts == {"kept": 1, "broken": 1}
    states = dict(PromiseToPay.objects.values_list("pk", "state"))
    assert states == {
        kept.pk: PromiseState.KEPT,
        broken.pk: PromiseState.BROKEN,
        still_open.pk: PromiseState.OPEN,
    }
    events = list(
        ReceivableEvent.objects.filter(
            kind__in=[ReceivableEventKind.PROMISE_KEPT, ReceivableEventKind.PROMISE_BROKEN]
        )
        .order_by("kind")
        .values_list("kind", "customer_id", "after")
    )
    assert events == [
        (
            "promise_broken",
            book["west"].pk,
            {"promise_id": broken.pk, "state": "broken", "paid": "699.99", "amount": "700.00"},
        ),
        (
            "promise_kept",
            east.pk,
            {"promise_id": kept.pk, "state": "kept", "paid": "300.00", "amount": "300.00"},
        ),
    ]
    assert ReceivableEvent.objects.filter(kind=ReceivableEventKind.PROMISE_RECORDED).count() == 3
    # A second review changes nothing.
    assert promises_review(today=today) == {"kept": 0, "broken": 0}


def test_a_promise_dated_before_it_was_made_is_refused(organisation, book, today):
    with pytest.raises(ValidationFailed, match="before the day the promise was made"):
        promise_to_pay_record(
            customer=book["east"],
            actor=organisation.rep,
            amount=D("10"),
            made_on=today,
            promised_for=today - dt.timedelta(days=1),
        )
    with pytest.raises(ValidationFailed, match="belongs to another customer"):
        promise_to_pay_record(
            customer=book["east"],
            actor=organisation.rep,
            amount=D("10"),
            promised_for=today,
            invoices=[book["w_200"]],
        )
    assert PromiseToPay.objects.count() == 0
    assert ReceivableEvent.objects.count() == 0


def test_promises_are_read_with_what_was_paid(organisation, book, today):
    promise_to_pay_record(
        customer=book["east"],
        actor=organisation.rep,
        amount=D("300"),
        made_on=today - dt.timedelta(days=3),
        promised_for=today + dt.timedelta(days=3),
    )
    payment_record(customer=book["east"], number="P", received_on=today, amount=D("120"))

    promise = promises_of(user=organisation.rep, customer=book["east"], today=today).get()

    assert promise.paid == D("120.00")
    assert list(promises_of(user=organisation.other_rep, customer=book["east"], today=today)) == []


def test_a_note_records_the_contact_and_an_event(organisation, book, today):
    note = collection_note_add(
        customer=book["east"],
        actor=organisation.rep,
        contacted_on=today,
        channel="phone",
        outcome="no_contact",
        text=" 无人接听 ",
        invoice=book["e_95"],
    )

    assert (note.text, note.recorded_by, note.invoice) == (
        "无人接听",
        organisation.rep,
        book["e_95"],
    )
    event = ReceivableEvent.objects.get()
    assert (event.kind, event.actor, event.customer, event.invoice) == (
        "note_added",
        organisation.rep,
        book["east"],
        book["e_95"],
    )
    with pytest.raises(ValidationFailed, match="in the future"):
        collection_note_add(
            customer=book["east"],
            actor=organisation.rep,
            contacted_on=today + dt.timedelta(days=1),
            channel="phone",
            outcome="successful",
        )
    with pytest.raises(ValidationFailed, match="unknown outcome"):
        collection_note_add(
            customer=book["east"],
            actor=organisation.rep,
            contacted_on=today,
            channel="phone",
            outcome="maybe",
        )
    assert CollectionNote.objects.count() == 1


# --- Vanished debtors ------------------------------------------------------------------------


def _silent_customer(code, owner, today, *, silent_days, paid=False):
    customer = CustomerFactory.create(code=code, owner=owner)
    issued = today - dt.timedelta(days=silent_days + 100)
    invoice_create(
        customer=customer,
        number=f"{code}-1",
        issue_date=issued,
        due_date=issued + dt.timedelta(days=30),
        amount=D("1000"),
    )
    payment_record(
        customer=customer,
        number=f"{code}-P",
        received_on=today - dt.timedelta(days=silent_days),
        amount=D("10"),
    )
    return customer


def test_vanished_debtor_is_flagged_exactly_at_the_threshold(organisation, today, settings):
    settings.KEHU = {**settings.KEHU, "VANISHED_AFTER_DAYS": 180}
    at = _silent_customer("AT", organisation.rep, today, silent_days=180)
    _silent_customer("BEFORE", organisation.rep, today, silent_days=179)
    contacted = _silent_customer("TALKED", organisation.rep, today, silent_days=400)
    collection_note_add(
        customer=contacted,
        actor=organisation.rep,
        contacted_on=today - dt.timedelta(days=179),
        channel="visit",
        outcome="successful",
    )
    not_reached = _silent_customer("NOANSWER", organisation.rep, today, silent_days=400)
    collection_note_add(
        customer=not_reached,
        actor=organisation.rep,
        contacted_on=today - dt.timedelta(days=3),
        channel="phone",
        outcome="no_contact",
    )
    west = _silent_customer("WEST", organisation.other_rep, today, silent_days=300)

    mine = vanished_debtors(user=organisation.rep, today=today, sort="customer")
    everyone = vanished_debtors(user=organisation.finance, today=today, sort="customer")

    assert [(c.code, c.balance, c.last_payment_on) for c in mine] == [
        ("AT", D("990.00"), today - dt.timedelta(days=180)),
        ("NOANSWER", D("990.00"), today - dt.timedelta(days=400)),
    ]
    assert [c.code for c in everyone] == ["AT", "NOANSWER", "WEST"]
    assert {at.pk, west.pk} <= {c.pk for c in everyone}
    assert [
        c.code for c in vanished_debtors(user=organisation.rep, today=today, after_days=181)
    ] == ["NOANSWER"]


def test_a_new_customer_that_never_paid_is_not_vanished_yet(organisation, today):
    customer = CustomerFactory.create(code="NEW", owner=organisation.rep)
    _invoice(customer, "N-1", days_past_due=100, today=today)  # issued 130 days ago

    assert list(vanished_debtors(user=organisation.rep, today=today)) == []
    assert [
        c.code for c in vanished_debtors(user=organisation.rep, today=today, after_days=130)
    ] == ["NEW"]


# --- Write-offs -----------------------------------------------------------------------------


@pytest.fixture
def written_off(organisation, book, today):
    return write_off_create(
        invoice=book["e_95"],
        amount=D("200"),
        written_off_on=today - dt.timedelta(days=3),
        reason="客户失联",
        decided_by=organisation.finance,
        credit_given_by=organisation.rep,
        credit_approved_by=organisation.customer_manager,
    )


def test_write_off_writes_an_event(written_off, organisation, book):
    event = ReceivableEvent.objects.get()

    assert (event.kind, event.actor, event.invoice, event.before, event.reason) == (
        "write_off_created",
        organisation.finance,
        book["e_95"],
        {"open_amount": "300.00"},
        {"text": "客户失联"},
    )
    assert event.after["open_amount"] == "100.00"


def test_reversal_restores_the_balance_and_a_second_one_is_refused(
    written_off, organisation, book, today
):
    invoice = book["e_95"]

    write_off_reverse(write_off=written_off, actor=organisation.finance, reason="回款了")

    invoice.refresh_from_db()
    written_off.refresh_from_db()
    assert invoice.open_amount == D("300.00") == invoice_open_amount_from_ledger(invoice)
    assert written_off.reversed_on == today
    event = ReceivableEvent.objects.get(kind=ReceivableEventKind.WRITE_OFF_REVERSED)
    assert (event.actor, event.before, event.after, event.reason) == (
        organisation.finance,
        {"open_amount": "100.00", "reversed_on": None},
        {"open_amount": "300.00", "reversed_on": today.isoformat(), "write_off_id": written_off.pk},
        {"text": "回款了"},
    )

    with pytest.raises(Conflict, match="already reversed"):
        write_off_reverse(write_off=written_off, actor=organisation.finance, reason="again")

    invoice.refresh_from_db()
    assert invoice.open_amount == D("300.00")
    assert ReceivableEvent.objects.count() == 2


def test_only_finance_reverses_and_not_before_the_write_off(written_off, organisation, book, today):
    with pytest.raises(PermissionDenied):
        write_off_reverse(write_off=written_off, actor=organisation.rep, reason="x")
    with pytest.raises(ValidationFailed, match="before the write-off"):
        write_off_reverse(
            write_off=written_off,
            actor=organisation.finance,
            reason="x",
            on=today - dt.timedelta(days=4),
        )
    written_off.refresh_from_db()
    book["e_95"].refresh_from_db()
    assert written_off.reversed_on is None
    assert book["e_95"].open_amount == D("100.00")
    assert ReceivableEvent.objects.count() == 1


def test_write_offs_are_listed_for_those_who_see_the_customer(written_off, organisation):
    assert list(write_offs_visible_to(user=organisation.rep)) == [written_off]
    assert list(write_offs_visible_to(user=organisation.other_rep)) == []
    assert list(write_offs_visible_to(user=organisation.finance, state="reversed")) == []
    assert list(
        write_offs_visible_to(user=organisation.finance, person_id=organisation.customer_manager.pk)
    ) == [written_off]
