"""The `kehu` command line: what a user does, each command a thin wrapper over the services."""

from __future__ import annotations

import os

import typer

app = typer.Typer(
    help="Kehu 客户 — customer value and credit management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings.local")
    import django

    django.setup()


@app.command()
def migrate() -> None:
    """Create or update the database tables."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


def _register() -> None:
    from kehu.cli import (
        clv,
        credit,
        demo,
        export,
        imports,
        receivables,
        users,
        value,
        value_reports,
        worker,
    )

    for module in (
        clv,
        credit,
        demo,
        export,
        imports,
        receivables,
        users,
        value,
        value_reports,
        worker,
    ):
        module.register(app)


_register()

if __name__ == "__main__":
    app()
