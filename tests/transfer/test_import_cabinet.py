"""Настройки → Импорт: upload, preview with a column mapping, dry run, import, progress."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licentia.clients.models import Client
from licentia.keys.models import LicenseKey
from licentia.transfer.models import ImportBatch, ImportStatus
from tests.transfer.test_import import csv_bytes, legacy_rows

pytestmark = pytest.mark.django_db


def upload(manager_client, data: bytes, name: str = "clients.csv"):
    return manager_client.post(
        reverse("admin:transfer_importbatch_add"), {"file": SimpleUploadedFile(name, data)}
    )


def mapping_form(page: str, headers: list[str], guessed: list[str], dry_run: bool) -> dict:
    form = {f"column_{index}": field for index, field in enumerate(guessed)}
    if dry_run:
        form["dry_run"] = "on"
    return form


def test_an_upload_shows_the_first_rows_with_the_guessed_mapping(product, manager_client) -> None:
    response = upload(manager_client, csv_bytes(legacy_rows(30)))

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:transfer_importbatch_mapping", args=[batch.pk])
    page = manager_client.get(response["Location"]).content.decode()
    assert batch.status == ImportStatus.DRAFT
    assert "ООО Клиент 9" in page
    assert "ООО Клиент 10" not in page  # ten rows of the thirty
    assert '<option value="key" selected>' in page
    assert batch.mapping["Ключ"] == "key"


def test_a_dry_run_then_the_import_from_the_cabinet(
    product, manager_client, django_capture_on_commit_callbacks
) -> None:
    headers = ["company", "crm_id1", "email", "manager", "distributor", "key", "product"]
    headers += ["multiplier", "expires", "trial"]
    rows = [*legacy_rows(4), ["", "", "x@firm.ru", "", "", "", "", "", "", ""]]
    for dry_run in (True, False):
        location = upload(manager_client, csv_bytes(rows))["Location"]
        with django_capture_on_commit_callbacks(execute=True):
            done = manager_client.post(location, mapping_form("", [], headers, dry_run))
        batch = ImportBatch.objects.order_by("-id").first()
        assert done["Location"] == reverse("admin:transfer_importbatch_change", args=[batch.pk])
        status = manager_client.get(done["Location"]).content.decode()

        assert batch.status == ImportStatus.DONE
        assert (batch.clients_created, batch.keys_created, batch.rows_failed) == (4, 4, 1)
        assert batch.dry_run is dry_run
        assert batch.source == b""
        assert 'data-testid="import-errors"' in status
        assert "The company is required for a new client." in status or "компания" in status
        assert Client.objects.count() == (0 if dry_run else 4)
    assert LicenseKey.objects.filter(number="OLD-00002-XYZ").exists()
    listing = manager_client.get(reverse("admin:transfer_importbatch_changelist")).content.decode()
    assert listing.count("clients.csv") >= 2


def test_a_file_that_is_not_a_table_is_refused_on_the_form(manager_client) -> None:
    response = upload(manager_client, b"", name="clients.csv")

    assert response.status_code == 200
    assert ImportBatch.objects.count() == 0


def test_a_read_only_user_sees_the_imports_but_cannot_import(client, read_only_user) -> None:
    client.force_login(read_only_user)

    assert client.get(reverse("admin:transfer_importbatch_changelist")).status_code == 200
    assert client.get(reverse("admin:transfer_importbatch_add")).status_code == 403
