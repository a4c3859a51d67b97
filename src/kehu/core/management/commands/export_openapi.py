"""Write the API's OpenAPI document to openapi.json (pretty, sorted keys), or check it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import kehu

# The repository root in a source checkout: src/kehu/__init__.py → ../../
DEFAULT_PATH = Path(kehu.__file__).resolve().parents[2] / "openapi.json"
REFRESH_COMMAND = "python manage.py export_openapi"


def openapi_document() -> dict[str, Any]:
    from kehu.api import api

    return api.get_openapi_schema()


def openapi_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api to openapi.json (or --check that it is current)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", type=Path, default=DEFAULT_PATH, help="where to write (default: openapi.json)"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; fail when the file differs from what the code declares",
        )

    def handle(self, *args: Any, out: Path, check: bool, **options: Any) -> None:
        text = openapi_text(openapi_document())
        if check:
            current = out.read_text(encoding="utf-8") if out.exists() else ""
            if current != text:
                raise CommandError(f"{out} is out of date; refresh it with `{REFRESH_COMMAND}`")
            self.stdout.write(f"{out} is up to date")
            return
        out.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {out}")
