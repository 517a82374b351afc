"""Two workers on PostgreSQL, with the receiver down for a while: every delivery reaches it
exactly once; the control, without the row lock, shows that the test can see a double."""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.utils import timezone

from licentia.webhooks import delivery, services
from licentia.webhooks.models import DeliveryStatus, WebhookDelivery
from licentia.webhooks.services import deliveries_write

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = 30


@pytest.fixture
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite runs one writer at a time")


def two_workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    meet = threading.Barrier(2, timeout=10)
    met: set[str] = set()

    def hook(rows: list[WebhookDelivery]) -> None:
        # Each worker's first claim waits here, after its read and before its update.
        name = threading.current_thread().name
        if name not in met:
            met.add(name)
            meet.wait()

    monkeypatch.setattr(delivery, "claim_hook", hook)

    def work() -> None:
        try:
            delivery.deliveries_send_due()
        finally:
            connection.close()

    workers = [threading.Thread(target=work, name=f"worker{n}") for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)


def receiver_down_then_up(receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the two workers send: no run is started when the deliveries are written.
    monkeypatch.setattr(services, "_kick_worker", lambda: None)
    with transaction.atomic():
        for number in range(ROWS):
            deliveries_write(event="client.created", data={"client": {"id": number}})
    receiver.failing = True
    two_workers_at_once(monkeypatch)
    receiver.failing = False
    # The pause has passed.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    two_workers_at_once(monkeypatch)


def test_two_workers_deliver_each_event_once_after_the_receiver_was_down(
    postgresql_only, webhook, receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver_down_then_up(receiver, monkeypatch)

    down = Counter(item["headers"]["X-Licentia-Delivery"] for item in receiver.received)
    accepted = Counter(item["headers"]["X-Licentia-Delivery"] for item in receiver.accepted())
    assert len(accepted) == ROWS
    assert set(accepted.values()) == {1}
    assert set(down.values()) == {2}  # once refused, once accepted
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SENT).count() == ROWS


def test_control_without_the_row_lock_two_workers_deliver_twice(
    postgresql_only, webhook, receiver, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.LICENTIA_WEBHOOK_LOCK = False
    receiver_down_then_up(receiver, monkeypatch)

    accepted = Counter(item["headers"]["X-Licentia-Delivery"] for item in receiver.accepted())
    assert max(accepted.values()) == 2
