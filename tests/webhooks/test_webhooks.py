import contextlib
import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.clients.merge import clients_merge
from licentia.clients.services import client_delete, client_update
from licentia.coupons.models import CouponKind, Door
from licentia.coupons.services import (
    Row,
    activation_deactivate,
    coupon_activate,
    coupon_batch_generate,
)
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture, session_reset
from licentia.licensing.services.trials import trial_register
from licentia.licensing.units import Unit
from licentia.webhooks import delivery
from licentia.webhooks.models import DeliveryStatus, WebhookDelivery
from licentia.webhooks.services import delivery_replay, line_events_write
from tests.factories import make_client, make_product
from tests.webhooks.conftest import ACTOR, SECRET

pytestmark = pytest.mark.django_db


def events() -> list[str]:
    return list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))


def test_a_delivery_is_written_in_the_transaction_of_the_event(webhook) -> None:
    make_client(company="ООО Есть")

    def rolled_back() -> None:
        with transaction.atomic():
            make_client(company="ООО Нет")
            raise RuntimeError("the change is rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()

    deliveries = list(WebhookDelivery.objects.all())
    assert [row.payload["data"]["client"]["company"] for row in deliveries] == ["ООО Есть"]
    assert deliveries[0].status == DeliveryStatus.PENDING


def test_a_webhook_gets_only_the_events_it_chose(webhook) -> None:
    webhook.events = ["client.deleted"]
    webhook.save()

    client = make_client()
    client_delete(client=client, actor=ACTOR)

    assert events() == ["client.deleted"]


def test_every_event_of_the_apps_below_becomes_a_delivery(webhook) -> None:
    product = make_product(3, (1, LicenseType.USER, 1, False), trial_days=90, name_en="Add-on")
    client = make_client(company="ООО Ромашка")
    client_update(client=client, actor=ACTOR, contact="Анна")
    duplicate = make_client(company="Ромашка")
    clients_merge(main=client, others=[duplicate], actor=ACTOR)
    trial_register(
        product_id=3,
        questionnaire={"company": "ООО Триал", "email": "t@firm.ru"},
        unit=Unit(user="u", host="h", database="d"),
        fingerprint={"m": "1"},
    )
    key = license_key_generate(client=client, actor=ACTOR)
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=product)], actor=ACTOR
    )
    activation = coupon_activate(
        key_number=key.number, code=batch.coupons.get().code, door=Door.API, actor=ACTOR
    )
    granted = session_capture(
        key_number=key.number,
        feature_id=1,
        unit=Unit(user="buh", host="pc", database="base"),
        fingerprint={},
    )
    session_reset(session=granted.session, actor=ACTOR)
    activation_deactivate(activation=activation, actor=ACTOR)
    for _attempt in range(3):
        # Refused: the key holds no line since the deactivation.
        with contextlib.suppress(Refusal):
            session_capture(
                key_number=key.number,
                feature_id=1,
                unit=Unit(user="buh", host="pc", database="base"),
                fingerprint={},
            )
    soon = timezone.now() + timedelta(days=5)
    key_line_add(key=key, product=product, actor=ACTOR, expires_at=soon)
    line_events_write()
    line_events_write()
    line_events_write(at=soon + timedelta(hours=1))

    assert events() == [
        "client.created",
        "client.updated",
        "client.created",
        "client.merged",
        "client.created",
        "trial.created",
        "coupon.activated",
        "session.reset",
        "coupon.deactivated",
        "license.problem",
        "line.expiring",
        "line.expired",
    ]


def _signed(received: dict) -> bool:
    headers = received["headers"]
    timestamp = headers["X-Licentia-Timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + received["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-Licentia-Signature"], f"sha256={expected}")


def test_deliveries_reach_the_receiver_signed(webhook, receiver) -> None:
    client = make_client(company="ООО Вектор", crm_id2="c-42")

    counts = delivery.deliveries_send_due()

    assert counts == {"sent": 1, "retry": 0, "failed": 0}
    (received,) = receiver.received
    assert _signed(received)
    assert abs(int(received["headers"]["X-Licentia-Timestamp"]) - time.time()) < 60
    assert received["headers"]["X-Licentia-Event"] == "client.created"
    assert received["json"]["event"] == "client.created"
    assert received["json"]["data"]["client"]["id"] == client.pk
    assert received["json"]["data"]["client"]["crm_id2"] == "c-42"
    row = WebhookDelivery.objects.get()
    assert (row.status, row.response_status, row.response_body) == ("sent", 200, "ok")
    assert received["headers"]["X-Licentia-Delivery"] == str(row.delivery_id)


def test_a_failing_receiver_gets_the_delivery_later(webhook, receiver) -> None:
    make_client()
    receiver.failing = True

    first = delivery.deliveries_send_due()
    row = WebhookDelivery.objects.get()
    receiver.failing = False
    again_too_soon = delivery.deliveries_send_due()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    later = delivery.deliveries_send_due()

    assert first == {"sent": 0, "retry": 1, "failed": 0}
    assert row.status == "pending"
    assert row.response_status == 503
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert again_too_soon == {"sent": 0, "retry": 0, "failed": 0}
    assert later["sent"] == 1
    assert [item["answered"] for item in receiver.received] == [503, 200]
    assert len({item["headers"]["X-Licentia-Delivery"] for item in receiver.received}) == 1


def test_a_delivery_failing_for_a_day_is_given_up_and_can_be_replayed(webhook, receiver) -> None:
    make_client()
    receiver.failing = True
    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))

    delivery.deliveries_send_due()
    row = WebhookDelivery.objects.get()
    receiver.failing = False
    delivery_replay(delivery=row, actor=ACTOR)
    delivery.deliveries_send_due()

    assert row.status == "failed"
    assert WebhookDelivery.objects.get().status == "sent"


def test_an_unreachable_receiver_is_retried(webhook) -> None:
    webhook.url = "http://127.0.0.1:18619/nobody-listens"
    webhook.save()
    make_client()

    counts = delivery.deliveries_send_due()

    row = WebhookDelivery.objects.get()
    assert counts["retry"] == 1
    assert "Connection refused" in row.last_error or "URLError" in row.last_error


def test_the_secret_is_sealed_and_left_out_of_the_audit(webhook) -> None:
    from licentia.core.models import AuditEvent

    assert SECRET not in webhook.secret_sealed
    event = AuditEvent.objects.get(action="webhook.create")
    assert "secret_sealed" not in event.after


def test_the_documented_python_verification_accepts_a_delivery_and_refuses_a_forgery(
    webhook, receiver
) -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs/api.md").read_text()
    python = text.split("```python\n")[1].split("```")[0]
    snippet = python[python.index("def verify") :]
    namespace: dict = {}
    exec("import hashlib, hmac, time\n" + snippet, namespace)  # noqa: S102 - our own docs
    make_client()
    delivery.deliveries_send_due()
    (received,) = receiver.received

    assert namespace["verify"](SECRET, received["headers"], received["body"])
    assert not namespace["verify"](SECRET, received["headers"], received["body"] + b" ")
    assert not namespace["verify"]("another", received["headers"], received["body"])
