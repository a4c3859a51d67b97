"""Credit settings: read by everyone, changed by finance, top management and administrators as
a new version; a bad value is refused naming its key, nothing changes, and the attempt is
logged. The check then uses what is in force."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from kehu.credit.models import CreditEvent, CreditEventKind, CreditSettings
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.settings import DEFAULTS


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _patch(client, body):
    return client.patch(
        "/api/credit/settings", data=json.dumps(body), content_type="application/json"
    )


def test_everyone_reads_the_settings_in_force(client, organisation):
    client.force_login(organisation.rep)

    response = client.get("/api/credit/settings")

    assert response.status_code == 200
    assert response.json()["values"] == DEFAULTS
    assert response.json()["history"] == []


def test_finance_changes_a_setting_as_a_new_version(client, organisation):
    client.force_login(organisation.finance)

    response = _patch(
        client,
        {
            "changes": {
                "check": {"tolerance_share": "0.05", "checkpoints": ["confirm", "deliver"]}
            },
            "reason": "旺季放宽",
        },
    )

    assert response.status_code == 200, response.content
    values = credit_settings_current()
    assert values["check"] == {"tolerance_share": "0.05", "checkpoints": ["confirm", "deliver"]}
    assert values["hold"] == DEFAULTS["hold"]
    version = CreditSettings.objects.get()
    assert version.changed_by == organisation.finance
    assert version.reason == "旺季放宽"
    assert CreditEvent.objects.filter(kind=CreditEventKind.SETTINGS_CHANGED).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"check": {"tolerance_share": "-0.1"}}, "check.tolerance_share"),
        ({"check": {"checkpoints": ["ship"]}}, "check.checkpoints"),
        ({"hold": {"overdue_days": 0}}, "hold.overdue_days"),
        ({"accountability": {"handler_share": "0.7"}}, "accountability"),
        ({"no_such": 1}, "no_such"),
    ],
)
def test_bad_values_are_refused_naming_the_key_and_nothing_changes(
    client, organisation, changes, field
):
    client.force_login(organisation.finance)

    response = _patch(client, {"changes": changes})

    assert response.status_code == 422
    assert response.json()["detail"] == {"field": field}
    assert CreditSettings.objects.count() == 0
    refused = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert refused.reason["action"] == "credit_settings_update"


@pytest.mark.parametrize("role", ["rep", "customer_manager", "regional_manager"])
def test_others_may_not_change_them_and_the_attempt_is_logged(client, organisation, role):
    client.force_login(getattr(organisation, role))

    response = _patch(client, {"changes": {"hold": {"overdue_days": 90}}})

    assert response.status_code == 403
    assert CreditSettings.objects.count() == 0
    assert CreditEvent.objects.filter(kind=CreditEventKind.REFUSED).count() == 1


def _form(**overrides):
    data = {
        "checkpoints": ["confirm"],
        "tolerance_percent": "0",
        "hold_overdue_days": "60",
        "review_overdue_days": "30",
        "review_line_expiry_days": "30",
        "review_task_due_days": "14",
        "line_validity_months": "12",
        "proposal_months": "12",
        "equity_cap_percent": "50",
        "round_to": "1000",
        "unapproved_giver_percent": "100",
        "handler_percent": "50",
        "approver_percent": "50",
        "factor_AAA": "1.5",
        "factor_AA": "1.2",
        "factor_A": "1.0",
        "factor_B": "0.6",
        "factor_C": "0",
        "reason": "调整",
    }
    data.update(overrides)
    return data


def test_the_page_shows_the_values_and_stores_only_what_changed(client, organisation):
    client.force_login(organisation.top_management)
    page = client.get("/credit/settings/")
    assert page.status_code == 200
    assert 'name="hold_overdue_days" value="60"' in page.content.decode()

    response = client.post(
        "/credit/settings/",
        _form(tolerance_percent="5", handler_percent="70", approver_percent="30"),
    )

    assert response.status_code == 302
    version = CreditSettings.objects.get()
    assert version.changes == {
        "check": {"tolerance_share": "0.05"},
        "accountability": {"handler_share": "0.7", "approver_share": "0.3"},
    }
    assert credit_settings_current()["accountability"]["handler_share"] == "0.7"


def test_the_page_refuses_shares_that_do_not_add_up_and_a_rep_cannot_post(client, organisation):
    client.force_login(organisation.finance)
    refused = client.post("/credit/settings/", _form(handler_percent="60"))
    assert refused.status_code == 422
    assert "must add up to 1" in refused.content.decode()

    client.force_login(organisation.rep)
    forbidden = client.post("/credit/settings/", _form(tolerance_percent="10"))
    assert forbidden.status_code == 403
    assert CreditSettings.objects.count() == 0
