"""Two workers on PostgreSQL never send one row twice; the control, without the row lock,
shows that the test can see it happen."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from licentia.notifications import delivery
from licentia.notifications.models import MailStatus, Notification

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = 30


@pytest.fixture
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite runs one writer at a time")


def two_workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            kind="test",
            language="ru",
            recipient=f"client{number}@example.com",
            role="test",
            subject=f"Письмо {number}",
            html="<p>x</p>",
            text="x",
            next_attempt_at=now,
            queued_at=now,
        )
        for number in range(ROWS)
    )
    meet = threading.Barrier(2, timeout=10)
    met: set[str] = set()

    def hook(rows: list[Notification]) -> None:
        # Each worker's first claim waits here, after its read and before its update.
        name = threading.current_thread().name
        if name not in met:
            met.add(name)
            meet.wait()

    monkeypatch.setattr(delivery, "claim_hook", hook)

    def work() -> None:
        try:
            delivery.outbox_send_due()
        finally:
            connection.close()

    workers = [threading.Thread(target=work, name=f"worker{n}") for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)


def test_two_workers_send_every_row_exactly_once(
    postgresql_only, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_workers_at_once(monkeypatch)

    sent = Counter(message["X-Licentia-Mail"] for message in smtp.received)
    assert len(sent) == ROWS
    assert set(sent.values()) == {1}
    assert Notification.objects.filter(status=MailStatus.SENT).count() == ROWS


def test_control_without_the_row_lock_two_workers_send_rows_twice(
    postgresql_only, smtp, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.LICENTIA_OUTBOX_LOCK = False
    two_workers_at_once(monkeypatch)

    sent = Counter(message["X-Licentia-Mail"] for message in smtp.received)
    assert max(sent.values()) == 2
