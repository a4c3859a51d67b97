"""`kehu` commands: users — create one, list them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def createuser(
    username: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="sales_rep, customer_manager, direct_sales_manager, regional_manager, "
            "finance, top_management or administrator",
        ),
    ],
    org_unit: Annotated[
        str | None, typer.Option("--org-unit", help="code of the user's org unit")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="the password; asked for when left out"),
    ] = None,
    superuser: Annotated[
        bool, typer.Option("--superuser", help="may do everything, in the admin too")
    ] = False,
    display_name: Annotated[str, typer.Option("--display-name", help="the name people see")] = "",
    email: Annotated[str, typer.Option("--email", help="e-mail address")] = "",
) -> None:
    """Create a user with a role (and an org unit, which decides whose customers they see)."""
    from kehu.cli.main import setup_django

    setup_django()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from kehu.accounts.models import OrgUnit, Role, User
    from kehu.accounts.services import user_create
    from kehu.core.errors import KehuError

    if role not in Role.values:
        raise _fail(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    unit = None
    if org_unit is not None:
        unit = OrgUnit.objects.filter(code=org_unit).first()
        if unit is None:
            codes = OrgUnit.objects.order_by("code").values_list("code", flat=True)
            known = ", ".join(codes) or "none yet"
            raise _fail(f"unknown org unit {org_unit!r}; known codes: {known}")
    if User.objects.filter(username=username).exists():
        raise _fail(f"user {username!r} already exists")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        validate_password(password, user=User(username=username))
    except ValidationError as error:
        raise _fail("the password is not accepted: " + " ".join(error.messages)) from error
    try:
        user = user_create(
            username=username,
            password=password,
            role=role,
            org_unit=unit,
            display_name=display_name,
            email=email,
            is_superuser=superuser,
        )
    except KehuError as error:
        raise _fail(error.message) from error
    where = f" in {unit.code}" if unit else ""
    Console().print(f"created user {user.username} ({user.role}{where})", highlight=False)


def users() -> None:
    """List the users: role, org unit, and whether they may log in."""
    from kehu.cli.main import setup_django

    setup_django()
    from kehu.accounts.models import User

    table = Table(title="Users")
    for column in ("username", "display name", "role", "org unit", "active", "superuser"):
        table.add_column(column)
    people = User.objects.select_related("org_unit").order_by("username")
    for person in people:
        table.add_row(
            person.username,
            person.display_name,
            person.role,
            person.org_unit.code if person.org_unit else "",
            "yes" if person.is_active else "no",
            "yes" if person.is_superuser else "",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("createuser")(createuser)
    app.command("users")(users)
