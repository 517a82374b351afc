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


def test_two_workers_enqueue_each_periodic_task_once_an_interval(monkeypatch, settings) -> None:
    from django_tasks_db.models import DBTaskResult

    from licentia import scheduler
    from licentia.licensing.tasks import purge_sessions, sweep_sessions

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(
        scheduler,
        "periodic_tasks",
        lambda: [scheduler.Periodic(sweep_sessions, 60), scheduler.Periodic(purge_sessions, 3600)],
    )
    stop = threading.Event()

    def worker() -> None:
        try:
            run_schedule(stop, tick=0.02)
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    time.sleep(0.5)
    stop.set()
    for thread in workers:
        thread.join(10)

    # Both workers looked at once; one enqueued each task, the other found it enqueued.
    enqueued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert enqueued == [purge_sessions.module_path, sweep_sessions.module_path]
