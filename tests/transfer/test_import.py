"""Importing the clients, keys and products of the vendor's previous service."""

import csv
import io
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook

from licentia.clients.models import Client, ClientSource
from licentia.clients.search import client_search
from licentia.core.audit import Actor
from licentia.core.models import AuditEvent
from licentia.keys.models import KeyLine, LicenseKey
from licentia.licensing.models import Session
from licentia.transfer.models import ImportBatch
from licentia.transfer.services import import_file
from tests.factories import DistributorFactory, StaffUserFactory, make_client

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
HEADER = ["Компания", "ИНН", "E-mail", "Менеджер", "Дистрибьютор", "Ключ", "Продукт"]
HEADER += ["Множитель", "Окончание", "Триал"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def legacy_rows(count: int) -> list[list[str]]:
    """Clients of the previous service, each with a legacy key (no check character) holding
    product 1 twice over."""
    return [
        [
            f"ООО Клиент {n}",
            "",
            f"buh{n}@client{n}.ru",
            "",
            "",
            f"OLD-{n:05d}-XYZ",
            "1",
            "2",
            "",
            "",
        ]
        for n in range(count)
    ]


def test_imported_legacy_keys_keep_their_numbers_and_capture_seats_through_the_protocol(
    product, client
) -> None:
    batch = import_file(data=csv_bytes(legacy_rows(5)), file_name="clients.csv", actor=ACTOR)

    assert (batch.rows_total, batch.rows_failed, batch.clients_created) == (5, 0, 5)
    assert (batch.keys_created, batch.lines_created) == (5, 5)
    key = LicenseKey.objects.get(number="OLD-00003-XYZ")
    assert key.client.company == "ООО Клиент 3"
    assert key.lines.get().multiplier == 2
    seats = [
        client.post(
            "/api/app/v1/capture",
            data={"key": typed, "feature_id": 10, "user": user, "host": "buh-01"},
            content_type="application/json",
        )
        for typed, user in [("OLD-00003-XYZ", "Иванов"), (" old-00003-xyz ", "Петров")]
    ]
    third = client.post(
        "/api/app/v1/capture",
        data={"key": "OLD-00003-XYZ", "feature_id": 10, "user": "Сидоров", "host": "buh-01"},
        content_type="application/json",
    )
    assert [seat.status_code for seat in seats] == [200, 200]
    assert Session.objects.filter(key=key, ended_at__isnull=True).count() == 2
    assert third.json()["code"] == 2008
    unknown = client.post(
        "/api/app/v1/capture",
        data={"key": "OLD-99999-XYZ", "feature_id": 10, "user": "Сидоров", "host": "h"},
        content_type="application/json",
    )
    assert unknown.json()["code"] == 2026


def test_a_second_run_of_the_same_file_changes_nothing(product) -> None:
    data = csv_bytes(legacy_rows(20))
    import_file(data=data, file_name="clients.csv", actor=ACTOR)
    counts = (Client.objects.count(), LicenseKey.objects.count(), KeyLine.objects.count())
    events = AuditEvent.objects.count()

    again = import_file(data=data, file_name="clients.csv", actor=ACTOR)

    assert (again.clients_created, again.clients_updated) == (0, 0)
    assert (again.keys_created, again.lines_created, again.rows_failed) == (0, 0, 0)
    assert (Client.objects.count(), LicenseKey.objects.count(), KeyLine.objects.count()) == counts
    # Only the batch itself is recorded.
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.filter(action="import.run").count() == 2


def test_a_client_is_matched_by_crm_id1_then_email_and_its_card_updated(product) -> None:
    manager = StaffUserFactory(email="sales@vendor.ru")
    distributor = DistributorFactory(name="Партнёр Север")
    rows = [
        ["ООО Ромашка", "7707083893", "buh@romashka.ru", "", "", "ROMA-1-OLD", "1", "", "", ""],
        [
            "ООО Ромашка",
            "7707083893",
            "buh@romashka.ru",
            "sales@vendor.ru",
            "партнёр север",
            "ROMA-2-OLD",
            str(distributor.guid and "b7e1a0c2-0000-4000-8000-000000000001"),
            "3",
            "31.12.2030",
            "да",
        ],
    ]

    batch = import_file(data=csv_bytes(rows), file_name="clients.csv", actor=ACTOR)

    assert (batch.clients_created, batch.clients_updated, batch.rows_failed) == (1, 1, 0)
    client = Client.objects.get()
    assert (client.manager, client.distributor) == (manager, distributor)
    assert sorted(client.license_keys.values_list("number", flat=True)) == [
        "ROMA-1-OLD",
        "ROMA-2-OLD",
    ]
    line = KeyLine.objects.get(key__number="ROMA-2-OLD")
    assert (line.multiplier, line.is_trial, line.expires_at.date().isoformat()) == (
        3,
        True,
        "2030-12-31",
    )


def test_refused_rows_are_reported_by_row_and_field_and_the_others_imported(product) -> None:
    rows = [
        ["ООО Хорошая", "", "good@firm.ru", "", "", "GOOD-00001", "1", "", "", ""],
        ["", "", "nobody@firm.ru", "", "", "", "", "", "", ""],
        ["ООО Плохая", "", "bad@firm.ru", "nobody@vendor.ru", "", "BAD-00001", "99", "x", "", ""],
        ["ООО Чужая", "", "other@firm.ru", "", "", "", "", "", "", ""],
        ["ООО Чужая", "", "other@firm.ru", "", "", "GOOD-00001", "", "", "", ""],
    ]

    batch = import_file(data=csv_bytes(rows), file_name="clients.csv", actor=ACTOR)

    assert (batch.rows_failed, batch.clients_created) == (3, 2)
    refused = {(error["row"], error["field"]) for error in batch.errors}
    assert refused == {(3, "company"), (4, "manager"), (6, "key")}
    assert list(Client.objects.values_list("company", flat=True)) == ["ООО Хорошая", "ООО Чужая"]
    assert LicenseKey.objects.get().client.company == "ООО Хорошая"


def test_a_dry_run_reports_what_would_change_and_changes_nothing(product) -> None:
    batch = import_file(
        data=csv_bytes(legacy_rows(3)), file_name="clients.csv", actor=ACTOR, dry_run=True
    )

    assert (batch.clients_created, batch.keys_created, batch.lines_created) == (3, 3, 3)
    assert (Client.objects.count(), LicenseKey.objects.count()) == (0, 0)
    assert ImportBatch.objects.get().dry_run is True
    assert AuditEvent.objects.filter(action="import.dry_run").count() == 1


def test_an_xlsx_file_with_hand_mapped_columns_and_our_own_key_format_imports(product) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Название фирмы", "Почта", "Номер", "Товар"])
    sheet.append(["ООО Лютик", "lutik@firm.ru", "demo 12345 67890 abcde fghjw", 1])
    out = io.BytesIO()
    workbook.save(out)

    batch = import_file(
        data=out.getvalue(),
        file_name="clients.xlsx",
        actor=ACTOR,
        mapping={"Название фирмы": "company", "Номер": "key", "Товар": "product"},
    )

    assert batch.rows_failed == 0, batch.errors
    assert Client.objects.get().email == "lutik@firm.ru"
    assert LicenseKey.objects.get().number == "DEMO-12345-67890-ABCDE-FGHJW"
    assert LicenseKey.objects.get().lines.count() == 1


def test_a_refused_row_changes_nothing_of_the_client_it_matched(product) -> None:
    import_file(data=csv_bytes(legacy_rows(1)), file_name="clients.csv", actor=ACTOR)
    row = ["ООО Другое имя", "", "new@firm.ru", "", "", "OLD-00000-XYZ", "99", "", "", ""]

    batch = import_file(data=csv_bytes([row]), file_name="clients.csv", actor=ACTOR)

    assert (batch.rows_failed, batch.clients_updated) == (1, 0)
    assert batch.errors == [{"row": 2, "field": "product", "message": batch.errors[0]["message"]}]
    assert Client.objects.get().company == "ООО Клиент 0"


def test_imported_clients_come_from_the_import_source(product) -> None:
    import_file(data=csv_bytes(legacy_rows(2)), file_name="clients.csv", actor=ACTOR)

    assert set(Client.objects.values_list("source", flat=True)) == {ClientSource.IMPORT}
    with translation.override("en"):
        assert Client.objects.first().get_source_display() == "import"
    with translation.override("ru"):
        assert Client.objects.first().get_source_display() == "импорт"


def test_the_queries_of_an_import_do_not_grow_with_its_rows(product) -> None:
    rows = legacy_rows(210)
    import_file(data=csv_bytes(rows[:5]), file_name="first.csv", actor=ACTOR)

    with CaptureQueriesContext(connection) as few:
        import_file(data=csv_bytes(rows[:10]), file_name="few.csv", actor=ACTOR)
    with CaptureQueriesContext(connection) as many:
        batch = import_file(data=csv_bytes(rows), file_name="many.csv", actor=ACTOR)

    def reads(queries: CaptureQueriesContext) -> int:
        return sum(query["sql"].startswith("SELECT") for query in queries.captured_queries)

    assert (batch.clients_created, batch.keys_created, batch.lines_created) == (200, 200, 200)
    assert reads(many) == reads(few)
    # Inserts of many rows each (SQLite takes fewer a statement than PostgreSQL).
    assert len(many.captured_queries) < 200 / 3


def test_imported_clients_are_found_by_their_keys_and_audited_once_each(product) -> None:
    make_client(company="ООО Давний", crm_id1="7707083893")
    rows = [
        *legacy_rows(3),
        ["ООО Давний", "7707083893", "", "", "", "LONG-00001-OLD", "1", "", "", ""],
    ]

    import_file(data=csv_bytes(rows), file_name="clients.csv", actor=ACTOR)

    assert [client.company for client in client_search(query="OLD-00002-XYZ")] == ["ООО Клиент 2"]
    assert [client.company for client in client_search(query="long00001old")] == ["ООО Давний"]
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions["client.create"] == 4  # three imported, one made beforehand
    assert (actions["license_key.import"], actions["key_line.import"]) == (4, 4)
    assert actions["import.run"] == 1
    key_event = AuditEvent.objects.get(action="license_key.import", object_repr="OLD-00001-XYZ")
    assert key_event.after["client"] == Client.objects.get(company="ООО Клиент 1").pk


def test_a_changed_card_is_updated_once_and_audited_with_its_values_before_and_after(
    product,
) -> None:
    import_file(data=csv_bytes(legacy_rows(2)), file_name="clients.csv", actor=ACTOR)
    rows = [
        ["ООО Клиент 0 (новое имя)", "", "buh0@client0.ru", "", "", "", "", "", "", ""],
        ["ООО Клиент 0 (новое имя)", "", "buh0@client0.ru", "", "", "NEW-00000", "1", "", "", ""],
    ]

    batch = import_file(data=csv_bytes(rows), file_name="renamed.csv", actor=ACTOR)

    assert (batch.clients_created, batch.clients_updated, batch.keys_created) == (0, 1, 1)
    client = Client.objects.get(email="buh0@client0.ru")
    assert client.company == "ООО Клиент 0 (новое имя)"
    assert client.source == ClientSource.IMPORT
    update = AuditEvent.objects.get(action="client.update")
    assert (update.before["company"], update.after["company"]) == (
        "ООО Клиент 0",
        "ООО Клиент 0 (новое имя)",
    )
    assert [found.pk for found in client_search(query="новое NEW-00000")] == [client.pk]
    assert [found.pk for found in client_search(query="OLD-00000-XYZ")] == [client.pk]
