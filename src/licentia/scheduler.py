"""Periodic tasks, enqueued by the worker process on a fixed interval."""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections
from django_tasks.base import Task

logger = logging.getLogger("licentia.scheduler")


@dataclass
class Periodic:
    task: Task[Any, Any]
    interval: float
    due: float = 0.0


def periodic_tasks() -> list[Periodic]:
    from licentia.core.tasks import prune_rate_windows
    from licentia.licensing.tasks import prune_finished_tasks, sweep_sessions
    from licentia.notifications.tasks import send_outbox, write_reminders
    from licentia.statistics.tasks import rollup_statistics

    return [
        Periodic(sweep_sessions, 60.0),
        Periodic(prune_finished_tasks, 3600.0),
        Periodic(prune_rate_windows, 3600.0),
        Periodic(send_outbox, 60.0),
        Periodic(write_reminders, 3600.0),
        Periodic(rollup_statistics, 600.0),
    ]


def run_schedule(stop: threading.Event, *, tick: float = 1.0) -> None:
    """Enqueues each periodic task whenever its interval has passed, until `stop` is set.
    Several workers each enqueue their own copy; the tasks are idempotent."""
    schedule = periodic_tasks()
    while not stop.is_set():
        for periodic in schedule:
            if time.monotonic() < periodic.due:
                continue
            try:
                periodic.task.enqueue()
            except Exception:
                # A database that is away for a moment must not stop the schedule.
                logger.exception("could not enqueue %s", periodic.task.name)
            finally:
                close_old_connections()
            periodic.due = time.monotonic() + periodic.interval
        stop.wait(tick)
