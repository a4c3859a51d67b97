"""`kehu createuser` and `kehu users` through Typer's CliRunner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kehu.accounts.models import User
from kehu.cli.main import app

runner = CliRunner()


def test_createuser_makes_a_rep_in_a_team(organisation):
    result = runner.invoke(
        app,
        [
            "createuser",
            "zhang",
            "--role",
            "sales_rep",
            "--org-unit",
            "east-1",
            "--password",
            "long-enough-1",
            "--display-name",
            "张三",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "created user zhang (sales_rep in east-1)" in result.output
    user = User.objects.get(username="zhang")
    assert (user.role, user.org_unit, user.display_name) == (
        "sales_rep",
        organisation.east_team,
        "张三",
    )
    assert user.check_password("long-enough-1")
    assert not user.is_superuser


def test_createuser_asks_for_the_password_twice_when_not_given(db):
    result = runner.invoke(
        app,
        ["createuser", "root", "--role", "administrator", "--superuser"],
        input="long-enough-2\nlong-enough-2\n",
    )

    assert result.exit_code == 0, result.output
    user = User.objects.get(username="root")
    assert user.check_password("long-enough-2")
    assert (user.is_superuser, user.is_staff) == (True, True)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "boss"], "unknown role 'boss'; choose one of sales_rep, customer_manager"),
        (
            ["--role", "sales_rep", "--org-unit", "mars"],
            "unknown org unit 'mars'; known codes: east, east-1, hq, west, west-1",
        ),
        (["--role", "sales_rep", "--password", "short"], "the password is not accepted: "),
    ],
)
def test_createuser_refuses_clearly_with_exit_code_1_and_creates_nothing(
    organisation, arguments, message
):
    before = User.objects.count()

    result = runner.invoke(app, ["createuser", "li", *arguments])

    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert User.objects.count() == before


def test_createuser_refuses_a_taken_username(organisation):
    result = runner.invoke(app, ["createuser", "rep", "--role", "finance", "--password", "x" * 12])

    assert result.exit_code == 1
    assert "user 'rep' already exists" in result.output
    assert User.objects.get(username="rep").role == "sales_rep"


def test_users_lists_everyone_with_role_and_unit(organisation):
    result = runner.invoke(app, ["users"])

    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    by_name = {row[0]: row for row in cells if row and row[0]}
    assert by_name["rep"][2:5] == ["sales_rep", "east-1", "yes"]
    assert by_name["finance"][2:4] == ["finance", "hq"]
    assert set(by_name) >= {"admin", "boss", "cm", "dsm", "finance", "rep", "rep2", "rm"}
