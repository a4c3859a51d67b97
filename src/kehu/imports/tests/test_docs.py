"""docs/import-columns.md names every column the importer accepts, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from kehu.imports.columns import COLUMNS, header_index, normalise

DOC = Path(__file__).resolve().parents[4] / "docs" / "import-columns.md"


@pytest.mark.skipif(not DOC.exists(), reason="the documentation is not installed with the package")
def test_every_column_is_documented_with_its_headers():
    lines = DOC.read_text(encoding="utf-8").splitlines()

    for kind, columns in COLUMNS.items():
        for column in columns:
            row = f"| {column.chinese} | {column.english} |"
            assert any(line.startswith(row) for line in lines), (kind, row)


def test_headers_match_however_they_are_written():
    index = header_index("customers")

    for written in ("*客户编码", "Customer_Code", "CUSTOMER CODE", "客户编码（必填）", "ｃｏｄｅ"):
        assert index[normalise(written)].key == "code"
    assert index[normalise("账期(天)")].key == "payment_terms_days"
    assert index[normalise("信用额度（元）")].key == "credit_limit"
