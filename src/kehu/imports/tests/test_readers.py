"""Reading files: encodings, malformed files, row numbers as Excel shows them."""

from __future__ import annotations

import codecs

import pytest

from kehu.customers.models import Customer
from kehu.imports.readers import FileRefused, read_table
from kehu.imports.services import import_file
from kehu.imports.tests.conftest import error_tuples
from kehu.imports.validation import header_matcher

TEXT = "客户编码,客户名称\r\nC1,上海甲公司\r\n"


def _read(path):
    return read_table(path, is_header=header_matcher("customers"))


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    ],
)
def test_encodings_are_detected(tmp_path, data, encoding):
    path = tmp_path / "a.csv"
    path.write_bytes(data)

    table = _read(path)

    assert (table.encoding, table.headers, table.columns, table.row_numbers) == (
        encoding,
        ["客户编码", "客户名称"],
        [["C1"], ["上海甲公司"]],
        [2],
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b"code,name\n\x80\x80,\xff\xfe\xfd\n",
            'The file\'s encoding is neither UTF-8 nor GB18030 (GBK); save it as "CSV UTF-8" '
            "or as .xlsx.",
        ),
        (b"\x00\x01\x02binary", "The file is not a text (CSV) file nor an Excel workbook."),
        (b"", "The file holds no rows."),
        (b"\r\n\r\n", "The file holds no rows."),
        (
            codecs.BOM_UTF8 + b"code\xff",
            "The file starts as UTF-8 but is not valid UTF-8 at byte 7.",
        ),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, data, reason):
    path = tmp_path / "a.csv"
    path.write_bytes(data)

    with pytest.raises(FileRefused) as refused:
        _read(path)

    assert str(refused.value) == reason


def test_a_fake_workbook_is_refused(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"code,name\n")

    with pytest.raises(FileRefused) as refused:
        _read(path)

    assert str(refused.value) == "The file is named like an Excel workbook but is not one."


def test_row_numbers_count_blank_lines_and_quoted_line_breaks_like_excel(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        '标题\n\n客户编码,客户名称,备注\nC1,甲,"两行\n备注"\n\n C2 ,乙,\n', encoding="utf-8"
    )

    table = _read(path)

    assert table.header_row == 3
    assert table.row_numbers == [4, 6]
    assert table.columns == [["C1", "C2"], ["甲", "乙"], ["两行\n备注", None]]


def test_semicolons_and_tabs_are_accepted_as_separators(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("客户编码\t客户名称\nC1\t甲\n", encoding="utf-8")

    assert _read(path).columns == [["C1"], ["甲"]]


@pytest.mark.django_db
def test_a_row_longer_than_the_header_is_refused(organisation, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("客户编码,客户名称\nC1,甲\nC2,乙,有限公司\n", encoding="utf-8")

    result = import_file(kind="customers", path=path, actor=organisation.administrator)

    assert error_tuples(result) == [
        (
            3,
            None,
            "有限公司",
            "This row has 1 cells more than the header has columns; a value "
            "that holds a comma must be in quotes.",
        ),
    ]
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_a_header_given_twice_refuses_the_file(organisation, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("客户编码,客户名称,code\nC1,甲,C2\n", encoding="utf-8")

    result = import_file(kind="customers", path=path, actor=organisation.administrator)

    assert result.status == "refused"
    assert error_tuples(result) == [
        (1, "code", "code", "Columns '客户编码' and 'code' both give 客户编码."),
    ]
