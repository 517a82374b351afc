import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from licentia.licensing.models import EndReason, Session
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from licentia.scheduler import run_schedule

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_schedule_sweeps_sessions_whose_lease_ran_out(key) -> None:
    session_capture(key_number=key.number, feature_id=10, unit=Unit("u", "h"))
    ran_out = timezone.now() - timedelta(minutes=1)
    Session.objects.update(lease_expires_at=ran_out, holds_until=ran_out)
    stop = threading.Event()

    def schedule() -> None:
        try:
            run_schedule(stop, tick=0.05)
        finally:
            connection.close()

    worker = threading.Thread(target=schedule)
    worker.start()
    deadline = time.monotonic() + 10
    while Session.objects.get().ended_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(10)

    assert Session.objects.get().end_reason == EndReason.TIMED_OUT
