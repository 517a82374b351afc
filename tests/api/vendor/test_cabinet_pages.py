"""Настройки → API-ключи and Вебхуки in the cabinet."""

import pytest
from django.urls import reverse

from licentia.api.models import ApiKey
from licentia.api.services import api_key_create
from licentia.webhooks.models import Webhook, WebhookDelivery
from licentia.webhooks.services import deliveries_write, webhook_secret
from tests.api.vendor.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_a_key_made_in_the_cabinet_is_shown_once_and_then_works(manager_client, client) -> None:
    answer = manager_client.post(
        reverse("admin:api_apikey_add"), {"name": "1С:УТ", "role": "sales"}, follow=True
    )

    page = answer.content.decode()
    key = ApiKey.objects.get(name="1С:УТ")
    token = page.split("Authorization: Bearer ")[1].split("<")[0].split()[0]
    assert token.startswith(f"{key.pk}.")
    assert key.created_by is not None
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "sales"
    listed = manager_client.get(reverse("admin:api_apikey_changelist")).content.decode()
    assert "1С:УТ" in listed
    assert token.split(".")[1] not in listed


def test_keys_are_revoked_from_the_list(manager_client) -> None:
    new = api_key_create(name="old", role="full", actor=ACTOR)

    manager_client.post(
        reverse("admin:api_apikey_changelist"),
        {"action": "revoke", "_selected_action": [new.key.pk]},
    )

    new.key.refresh_from_db()
    assert new.key.revoked_at is not None


def test_a_webhook_is_set_up_and_its_delivery_sent_again(manager_client) -> None:
    manager_client.post(
        reverse("admin:webhooks_webhook_add"),
        {
            "url": "https://crm.example.com/hook",
            "events": ["client.created", "trial.created"],
            "secret": "",
            "active": "on",
            "comment": "CRM",
        },
    )
    webhook = Webhook.objects.get()
    deliveries_write(event="client.created", data={"client": {"id": 1}})
    row = WebhookDelivery.objects.get()
    row.status = "failed"
    row.save()

    card = manager_client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))
    manager_client.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [row.pk]},
    )

    assert webhook.events == ["client.created", "trial.created"]
    assert len(webhook_secret(webhook)) > 20
    assert webhook_secret(webhook) in card.content.decode()
    row.refresh_from_db()
    assert row.status in ("pending", "sent", "sending")
    assert (
        manager_client.get(reverse("admin:webhooks_webhookdelivery_changelist")).status_code == 200
    )


def test_sales_see_neither_api_keys_nor_webhooks(client, db) -> None:
    from django.contrib.auth.models import Group

    from licentia.core.roles import SALES
    from tests.factories import StaffUserFactory

    user = StaffUserFactory(username="seller")
    user.groups.add(Group.objects.get(name=SALES))
    client.force_login(user)

    assert client.get(reverse("admin:api_apikey_changelist")).status_code == 403
    assert client.get(reverse("admin:webhooks_webhook_changelist")).status_code == 403
