"""`kehu credit …`: the credit commands (rating, re-survey scan, calibration), one group."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from kehu.cli.credit_calibrate import register_calibrate
    from kehu.cli.credit_lines import register_lines
    from kehu.cli.credit_ratings import register_ratings

    credit_app = typer.Typer(help="Credit management 信用管理.", no_args_is_help=True)
    register_ratings(credit_app)
    register_lines(credit_app)
    register_calibrate(credit_app)
    app.add_typer(credit_app, name="credit")
