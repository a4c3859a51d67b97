"""`kehu demo --no-serve`: builds the company, prints the logins, computes a value snapshot."""

import pytest
from typer.testing import CliRunner

from kehu.cli.main import app
from kehu.customers.models import Customer
from kehu.value.models import CustomerValue, ValueSnapshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_demo_builds_prints_logins_and_the_first_value_snapshot():
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--customers", "120", "--seed", "3"])

    assert result.exit_code == 0, result.output
    assert "kehu-demo" in result.output
    assert Customer.objects.count() == 120
    # the last two closed quarters, so the migration report has something to compare
    assert ValueSnapshot.objects.count() == 2
    for snapshot in ValueSnapshot.objects.all():
        assert CustomerValue.objects.filter(snapshot=snapshot).count() == 120


def test_demo_on_a_built_database_without_serving_refuses_and_changes_nothing():
    runner = CliRunner()
    runner.invoke(app, ["demo", "--no-serve", "--customers", "120"])

    result = runner.invoke(app, ["demo", "--no-serve", "--customers", "50"])

    assert result.exit_code == 1
    assert Customer.objects.count() == 120
