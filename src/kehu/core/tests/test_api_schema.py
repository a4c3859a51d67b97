"""The committed OpenAPI document matches the code; the docs page loads nothing from a CDN."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command

from kehu.core.management.commands.export_openapi import (
    DEFAULT_PATH,
    REFRESH_COMMAND,
    openapi_document,
    openapi_text,
)


def test_the_committed_openapi_json_matches_the_code():
    committed = DEFAULT_PATH.read_text(encoding="utf-8") if DEFAULT_PATH.exists() else ""

    current = openapi_text(openapi_document())

    assert committed == current, (
        f"openapi.json is out of date with the API; refresh it with `{REFRESH_COMMAND}` "
        "(or `make openapi`) and commit it"
    )


def test_the_served_schema_is_the_committed_one(client, db):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads(openapi_text(openapi_document()))


def test_the_export_command_writes_pretty_sorted_json(tmp_path):
    out = tmp_path / "openapi.json"

    call_command("export_openapi", out=out)

    text = out.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["info"]["title"] == "Kehu API"
    assert "/api/customers" in document["paths"]
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_export_command_check_fails_on_a_stale_file(tmp_path):
    out = tmp_path / "openapi.json"
    out.write_text("{}\n", encoding="utf-8")

    with pytest.raises(CommandError, match="export_openapi"):
        call_command("export_openapi", out=out, check=True)

    assert out.read_text(encoding="utf-8") == "{}\n"


def test_the_docs_page_uses_only_local_static_files(client, db):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(url.startswith("/static/") for url in urls), urls
    assert "/static/ninja/swagger-ui-bundle.js" in urls
    assert "cdn" not in html.lower()
    assert "/api/openapi.json" in html
    assert '"validatorUrl": null' in html


def test_the_swagger_files_the_docs_page_names_ship_with_the_app():
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(name), name
