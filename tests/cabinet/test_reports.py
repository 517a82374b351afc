import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.services.trials import trial_register
from licentia.licensing.units import Unit
from tests.factories import DistributorFactory, make_client, make_product

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


@pytest.fixture
def lines():
    product = make_product(3, (1, LicenseType.USER, 1, False), trial_days=14)
    noon = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    partner = DistributorFactory(name="Партнёр-Юг")
    soon = license_key_generate(
        client=make_client(company="ООО Скоро", distributor=partner), actor=ACTOR
    )
    later = license_key_generate(client=make_client(company="ООО Потом"), actor=ACTOR)
    key_line_add(
        key=soon, product=product, actor=ACTOR, starts_at=noon, expires_at=noon + timedelta(5)
    )
    key_line_add(
        key=later, product=product, actor=ACTOR, starts_at=noon, expires_at=noon + timedelta(50)
    )
    trial_register(
        product_id=3,
        questionnaire={"company": "ООО Триал", "email": "t@firm.ru", "inn": "7707083893"},
        unit=Unit(user="u", host="h", database="d"),
        fingerprint={"m": "1"},
        app_version="3.1.4",
    )
    return soon, later


def test_expiring_subscriptions_list_the_period_with_links_to_the_key(
    manager_client, lines
) -> None:
    soon, _later = lines

    page = manager_client.get("/reports/expiring-subscriptions/").content.decode()
    with_trials = manager_client.get("/reports/expiring-subscriptions/?trials=on").content.decode()
    by_partner = manager_client.get(
        "/reports/expiring-subscriptions/",
        {"distributor": soon.client.distributor_id, "date_to": "2099-01-01"},
    ).content.decode()

    assert "ООО Скоро" in page
    assert f"/keys/licensekey/{soon.pk}/change/" in page
    assert "ООО Потом" not in page
    assert "ООО Триал" not in page
    assert "ООО Триал" in with_trials
    assert "ООО Скоро" in by_partner
    assert "ООО Потом" not in by_partner


def test_expiring_subscriptions_export_to_xlsx_and_csv(manager_client, lines) -> None:
    xlsx = manager_client.get("/reports/expiring-subscriptions/?export=xlsx")
    csv = manager_client.get("/reports/expiring-subscriptions/?date_to=2099-01-01&export=csv")

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] == "ООО Скоро"
    assert len(rows) == 2
    text = csv.content.decode("utf-8-sig")
    assert "ООО Скоро" in text
    assert "ООО Потом" in text


def test_new_trials_list_the_last_week(manager_client, lines) -> None:
    page = manager_client.get("/reports/new-trials/").content.decode()
    csv = manager_client.get("/reports/new-trials/?export=csv").content.decode("utf-8-sig")

    assert "ООО Триал" in page
    assert "3.1.4" in page
    assert "7707083893" in csv


def test_the_reports_need_the_right_to_see_keys(client, db) -> None:
    from django.contrib.auth.models import Group

    from tests.factories import StaffUserFactory

    user = StaffUserFactory(username="nobody")
    user.groups.add(Group.objects.get(name="Техподдержка"))
    client.force_login(user)
    assert client.get("/reports/new-trials/").status_code == 200
    user.groups.clear()
    assert client.get("/reports/new-trials/").status_code == 403
