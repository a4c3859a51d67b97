"""The customer card's value panel: each class with the numbers that put the customer there, on
the hand-built ledger of snapshot_ledger.py (period 2025Q4, ranked by gross profit)."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse
from django.utils import translation

from kehu.value.evidence import _compared, _positions, customer_value_evidence
from kehu.value.models import CustomerValue
from kehu.value.scoring import tie_positions
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def ledger(organisation):
    return build_ledger(organisation)


@pytest.fixture
def snapshot(ledger):
    return value_snapshot_compute(period="2025Q4")


def _evidence(organisation, ledger, name):
    found = customer_value_evidence(
        user=organisation.finance, customer_id=ledger.customers[name].pk
    )
    assert found is not None
    return {item.kind: item for item in found.evidence}, found


def test_the_pyramid_class_names_rank_share_and_the_ranks_of_the_class(
    organisation, ledger, snapshot
):
    evidence, _found = _evidence(organisation, ledger, "A")
    pyramid = evidence["pyramid"]
    assert pyramid.key == "major"
    # A: gross profit 1,200 of 2,334 (1,200 + 750 + 384); rank 1 of 11 active; the only major.
    assert "Rank 1 of 11 active customers by gross profit (top 9.1%)" in pyramid.because
    assert "1,200.00, 51.41% of the company's total" in pyramid.because
    assert "are ranks 1 to 1" in pyramid.because


def test_inactive_and_prospects_say_why(organisation, ledger, snapshot):
    inactive, _found = _evidence(organisation, ledger, "E")
    assert inactive["pyramid"].key == "inactive"
    assert "No purchase from 2025-01-01 to 2025-12-31" in inactive["pyramid"].because
    assert "money" in inactive
    assert "score" not in inactive  # not ranked: no seven-factor score
    prospect, _found = _evidence(organisation, ledger, "D")
    assert prospect["pyramid"].because == "Has never bought."


def test_positions_are_the_scorings_tie_aware_percentiles(organisation, ledger, snapshot):
    active = list(CustomerValue.objects.filter(snapshot=snapshot, rank__isnull=False))
    purchases = np.array([row.purchase_count for row in active], dtype=float)
    revenue = np.array([float(row.revenue) for row in active])
    gross = np.array([float(row.gross_profit) for row in active])
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(revenue > 0, gross / revenue, -np.inf)
    expected = {
        "purchases": tie_positions(purchases),
        "revenue": tie_positions(revenue),
        "margin": tie_positions(margin),
    }
    for index, row in enumerate(active):
        found = _positions(row, snapshot)
        for name, positions in expected.items():
            assert found[name] == pytest.approx(positions[index]), (row.customer.code, name)


def test_money_class_and_quadrant_relations_agree_with_the_classes(organisation, ledger, snapshot):
    for name in "ABCFGHM":
        evidence, _found = _evidence(organisation, ledger, name)
        row = CustomerValue.objects.get(snapshot=snapshot, customer=ledger.customers[name])
        money = evidence["money"].because
        assert ("≥ the threshold" in money) == (row.money_class == "with_money"), money
        quadrant = evidence["quadrant"].because
        is_large = row.quadrant in ("core", "risk")
        is_loyal = row.quadrant in ("core", "growth")
        assert ("> the volume threshold" in quadrant) == is_large, quadrant
        assert (" ≥ " in quadrant.split("loyalty", 1)[1]) == is_loyal, quadrant


def test_a_loss_maker_is_explained(organisation, ledger, snapshot):
    evidence, _found = _evidence(organisation, ledger, "F")
    profit = evidence["profit"]
    assert profit.key == "loss"
    # F: gross profit 40, cost to serve 485 → net −445.
    assert "Net profit -445.00 = gross profit 40.00 − cost to serve 485.00" in profit.because
    assert "Loses money" in profit.because


def test_compared_shows_enough_decimals_to_tell_value_and_threshold_apart():
    assert _compared(0.4996, 0.5) == ("0.4996", "<", "0.5000")
    assert _compared(0.62, 0.5) == ("0.62", "≥", "0.50")
    assert _compared(0.5, 0.5) == ("0.50", "≥", "0.50")


def test_history_lists_one_line_per_period_newest_first(organisation, ledger, snapshot):
    value_snapshot_compute(period="2025Q3")
    value_snapshot_compute(period="2025Q4")  # a second run of 2025Q4: still one line
    _evidence_by_kind, found = _evidence(organisation, ledger, "A")
    assert [line.snapshot.period for line in found.history] == ["2025Q4", "2025Q3"]


def test_the_panel_is_shown_to_who_may_see_the_customer(client, organisation, ledger, snapshot):
    url = reverse("value:customer_panel", args=[ledger.customers["A"].pk])
    client.force_login(organisation.rep)
    response = client.get(url)
    assert response.status_code == 200
    assert "51.41%" in response.content.decode()  # A's share of the gross profit, in any language
    client.force_login(organisation.other_rep)
    assert client.get(url).status_code == 404


def test_the_panel_without_a_snapshot(client, organisation, ledger):
    client.force_login(organisation.finance)
    response = client.get(reverse("value:customer_panel", args=[ledger.customers["A"].pk]))
    assert response.status_code == 200
    assert "kehu analyze" in response.content.decode()
    assert "value-evidence" not in response.content.decode()


def test_the_card_loads_the_panel(client, organisation, ledger, snapshot):
    client.force_login(organisation.finance)
    customer = ledger.customers["A"]
    response = client.get(reverse("customers:card", args=[customer.pk]))
    assert reverse("value:customer_panel", args=[customer.pk]) in response.content.decode()
