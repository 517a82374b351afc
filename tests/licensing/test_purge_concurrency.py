"""On PostgreSQL the purge does not lock out captures: a batch being deleted holds locks on
old session rows only, never on the key a capture locks. The control, a purge that did lock
the key, makes the same capture wait."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from licentia.keys.models import LicenseKey
from licentia.licensing.models import EndReason, Session
from licentia.licensing.services.purge import sessions_purge
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has one writer at a time anyway"
    ),
]


def purge_held_open(key: LicenseKey, *, lock_key: bool) -> tuple[threading.Thread, threading.Event]:
    """A purge batch deleting the key's old sessions, its transaction held open until told."""
    deleted, finish = threading.Event(), threading.Event()

    def purge() -> None:
        try:
            with transaction.atomic():
                if lock_key:
                    LicenseKey.objects.select_for_update().get(pk=key.pk)
                Session.objects.filter(key=key, ended_at__lt=timezone.now()).delete()
                deleted.set()
                finish.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=purge)
    thread.start()
    assert deleted.wait(10)
    return thread, finish


def old_sessions(key: LicenseKey) -> None:
    for index in range(5):
        session = session_capture(
            key_number=key.number, feature_id=10, unit=Unit(f"old{index % 2}", "h")
        ).session
        Session.objects.filter(pk=session.pk).update(
            ended_at=timezone.now() - timedelta(days=400), end_reason=EndReason.RELEASED
        )


def capture_seconds(key: LicenseKey) -> tuple[float, threading.Thread]:
    """How long a capture took (infinite: still waiting after 2 s), and its thread."""
    started = time.monotonic()
    result: list[Session] = []

    def capture() -> None:
        try:
            result.append(
                session_capture(key_number=key.number, feature_id=10, unit=Unit("new", "h")).session
            )
        finally:
            connection.close()

    thread = threading.Thread(target=capture)
    thread.start()
    thread.join(2)
    return (time.monotonic() - started if result else float("inf")), thread


@pytest.mark.parametrize("lock_key", [False, True], ids=["purge", "control-locking-the-key"])
def test_a_capture_does_not_wait_for_a_purge_batch_of_its_key(key, lock_key: bool) -> None:
    old_sessions(key)
    thread, finish = purge_held_open(key, lock_key=lock_key)
    capture = None
    try:
        seconds, capture = capture_seconds(key)
    finally:
        finish.set()
        thread.join(10)
        if capture is not None:
            capture.join(10)

    if lock_key:
        assert seconds == float("inf")
    else:
        assert seconds < 0.5
        assert sessions_purge() == 0  # the batch committed: nothing old is left
