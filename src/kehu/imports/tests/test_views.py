"""The upload page: who may use it, what it shows, the error report download."""

from __future__ import annotations

import io

import fastexcel
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.customers.models import Customer
from kehu.imports.models import ImportRun

pytestmark = pytest.mark.django_db

URL = "/imports/"
GOOD = "客户编码,客户名称,业务员\r\nC1,甲公司,rep\r\nC2,乙公司,rep\r\n".encode("gb18030")
BAD = "客户编码,客户名称,业务员\r\nC1,甲公司,rep\r\nC2,乙公司,ghost\r\n".encode()


def _upload(client, content, *, name="客户.csv", **fields):
    data = {"kind": "customers", "file": SimpleUploadedFile(name, content), **fields}
    # Pages are Chinese until the person picks English with the switch (its cookie).
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(URL, data)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("administrator", 200),
        ("finance", 200),
        ("rep", 403),
        ("customer_manager", 403),
        ("regional_manager", 403),
        ("top_management", 403),
    ],
)
def test_only_administrators_and_finance_may_open_the_page(client, organisation, role, status):
    client.force_login(getattr(organisation, role))

    assert client.get(URL).status_code == status


def test_a_rep_cannot_post_a_file_either(client, organisation):
    client.force_login(organisation.rep)

    response = _upload(client, GOOD)

    assert response.status_code == 403
    assert Customer.objects.count() == 0
    assert ImportRun.objects.count() == 0


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_an_upload_shows_the_summary_and_lists_the_run(client, organisation):
    client.force_login(organisation.administrator)

    response = _upload(client, GOOD)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="import-counts"' in page
    assert "客户.csv" in page
    assert Customer.objects.count() == 2
    run = ImportRun.objects.get()
    assert (run.kind, run.file_name, run.status, run.started_by) == (
        "customers",
        "客户.csv",
        "done",
        organisation.administrator,
    )
    assert run.summary["counts"]["customers"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "refused": 0,
    }
    assert f'href="/imports/runs/{run.pk}/"' in page


def test_a_bad_file_shows_its_errors_and_offers_the_report(client, organisation):
    client.force_login(organisation.finance)

    response = _upload(client, BAD)

    page = response.content.decode()
    run = ImportRun.objects.get()
    assert run.status == "refused"
    assert 'id="import-errors"' in page
    assert "ghost" in page
    assert Customer.objects.count() == 0
    report_url = f"/imports/runs/{run.pk}/errors.xlsx"
    assert report_url in page

    download = client.get(report_url)

    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    workbook = fastexcel.read_excel(io.BytesIO(b"".join(download.streaming_content)).read())
    rows = workbook.load_sheet(0, dtypes="string").to_polars()
    assert rows.row(0)[:3] == ("C2", "乙公司", "ghost")
    errors = workbook.load_sheet(1, dtypes="string").to_polars()
    assert errors.row(0) == ("3", "业务员", "ghost", "No user with the username 'ghost'.")


def test_dry_run_and_skip_bad_rows_from_the_page(client, organisation):
    client.force_login(organisation.administrator)

    _upload(client, BAD, dry_run="on", skip_bad_rows="on")

    assert Customer.objects.count() == 0
    assert ImportRun.objects.get().status == "dry_run"

    _upload(client, BAD, skip_bad_rows="on")

    assert list(Customer.objects.values_list("code", flat=True)) == ["C1"]


def test_a_past_run_shows_its_counts_and_errors(client, organisation):
    client.force_login(organisation.administrator)
    _upload(client, BAD)
    run = ImportRun.objects.get()

    response = client.get(f"/imports/runs/{run.pk}/")

    assert response.status_code == 200
    assert "ghost" in response.content.decode()


def test_a_run_without_errors_has_no_report(client, organisation):
    client.force_login(organisation.administrator)
    _upload(client, GOOD)
    run = ImportRun.objects.get()

    assert client.get(f"/imports/runs/{run.pk}/errors.xlsx").status_code == 404


def test_a_file_that_is_not_a_table_is_refused_with_a_reason(client, organisation):
    client.force_login(organisation.administrator)

    response = _upload(client, b"PK\x03\x04 not really a workbook", name="x.xlsx")

    assert response.status_code == 200
    run = ImportRun.objects.get()
    assert run.status == "refused"
    assert run.errors[0]["reason"].startswith("The workbook cannot be read")
