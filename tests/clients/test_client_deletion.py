"""Which clients may be deleted: one that only tried the product long ago may, one that bought,
is trying it now or used it lately may not, and the cabinet says why in Russian."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import Binding, LicenseType
from licentia.clients.models import Client
from licentia.clients.services import client_delete, client_delete_blockers
from licentia.core.audit import Actor
from licentia.core.models import AuditEvent
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import Session
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
DAY = timedelta(days=1)


@pytest.fixture
def trial_product():
    return make_product(7, (70, LicenseType.USER, 1, False), name_ru="Склад", trial_days=14)


def client_with_trial(product, *, ended_days_ago: int) -> tuple[Client, LicenseKey]:
    client = make_client(company="ООО «Пробный»", email="probe@example.com")
    key = license_key_generate(client=client, actor=ACTOR)
    expires = timezone.now() - ended_days_ago * DAY
    key_line_add(
        key=key,
        product=product,
        actor=ACTOR,
        is_trial=True,
        starts_at=expires - 14 * DAY,
        expires_at=expires,
    )
    return client, key


def session_on(key: LicenseKey, *, last_used_days_ago: int, open_: bool = False) -> Session:
    used = timezone.now() - last_used_days_ago * DAY
    return Session.objects.create(
        key=key,
        feature_id=70,
        license_type=LicenseType.USER,
        binding=Binding.FLOATING,
        unit="anna@host",
        started_at=used - DAY,
        last_heartbeat_at=used,
        lease_expires_at=used + timedelta(minutes=5),
        ended_at=None if open_ else used,
    )


def test_a_client_whose_trial_ended_and_went_unused_is_deleted_with_its_keys(
    trial_product,
) -> None:
    client, key = client_with_trial(trial_product, ended_days_ago=40)
    session_on(key, last_used_days_ago=45)

    assert client_delete_blockers(client) == []
    client_delete(client=client, actor=ACTOR)

    assert not Client.objects.filter(pk=client.pk).exists()
    assert not LicenseKey.objects.exists()
    assert not KeyLine.objects.exists()
    assert not Session.objects.exists()
    event = AuditEvent.objects.get(action="client.delete")
    assert event.before["company"] == "ООО «Пробный»"
    assert event.before["email"] == "probe@example.com"
    assert event.before["license_keys"] == [key.number]
    (line,) = event.before["key_lines"][key.number]
    assert line.startswith("Склад (7) × 1: Триал закончился")


def test_a_client_that_bought_a_product_is_kept(trial_product) -> None:
    client, key = client_with_trial(trial_product, ended_days_ago=40)
    bought = make_product(8, (80, LicenseType.USER, 1, False), name_ru="Торговля")
    key_line_add(
        key=key,
        product=bought,
        actor=ACTOR,
        starts_at=timezone.now() - 100 * DAY,
        expires_at=timezone.now() - 50 * DAY,
    )

    with pytest.raises(ValidationError) as refused:
        client_delete(client=client, actor=ACTOR)

    assert refused.value.messages == [
        f"В ключе {key.number} есть купленный продукт «Торговля». Вместо удаления объедините "
        "этого клиента с другим или перенесите ключ другому клиенту."
    ]
    assert Client.objects.filter(pk=client.pk).exists()


def test_a_client_whose_trial_still_runs_is_kept(trial_product) -> None:
    client, key = client_with_trial(trial_product, ended_days_ago=-3)

    assert client_delete_blockers(client) == [
        f"В ключе {key.number} идёт триал «Склад». Сначала завершите его или объедините "
        "этого клиента с другим вместо удаления."
    ]


@pytest.mark.parametrize(("days_ago", "open_"), [(10, False), (60, True)])
def test_a_client_that_used_its_key_lately_is_kept(trial_product, days_ago, open_) -> None:
    client, key = client_with_trial(trial_product, ended_days_ago=40)
    session_on(key, last_used_days_ago=days_ago, open_=open_)

    (reason,) = client_delete_blockers(client)

    assert reason.startswith(f"Ключ {key.number} использовался в последние 30 дней (последний раз ")
    assert reason.endswith("). Клиента, у которого работает программа, не удаляют.")


def test_the_delete_page_deletes_an_old_trial_client(manager_client, trial_product) -> None:
    client, key = client_with_trial(trial_product, ended_days_ago=40)
    url = reverse("admin:clients_client_delete", args=[client.pk])

    page = manager_client.get(url).content.decode()
    manager_client.post(url, {"post": "yes"})

    assert key.number in page
    assert not Client.objects.filter(pk=client.pk).exists()


def test_the_delete_page_tells_in_russian_why_a_client_is_kept(
    manager_client, trial_product
) -> None:
    client, key = client_with_trial(trial_product, ended_days_ago=40)
    session_on(key, last_used_days_ago=3)
    url = reverse("admin:clients_client_delete", args=[client.pk])

    page = manager_client.get(url).content.decode()
    manager_client.post(url, {"post": "yes"})

    assert f"Ключ {key.number} использовался в последние 30 дней" in page
    assert Client.objects.filter(pk=client.pk).exists()
