"""Periodic tasks, enqueued by the worker process on a fixed interval."""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks.base import Task

logger = logging.getLogger("licentia.scheduler")


@dataclass
class Periodic:
    task: Task[Any, Any]
    interval: float
    due: float = 0.0


def periodic_tasks() -> list[Periodic]:
    from licentia.core.tasks import backup_daily, prune_rate_windows
    from licentia.licensing.tasks import prune_finished_tasks, purge_sessions, sweep_sessions
    from licentia.notifications.tasks import send_outbox, write_reminders
    from licentia.portal.tasks import prune_portal_records
    from licentia.releases.tasks import write_release_mail
    from licentia.statistics.tasks import rollup_statistics
    from licentia.webhooks.tasks import send_webhooks, write_line_events

    return [
        Periodic(sweep_sessions, 60.0),
        Periodic(prune_finished_tasks, 3600.0),
        Periodic(prune_rate_windows, 3600.0),
        Periodic(send_outbox, 60.0),
        Periodic(write_reminders, 3600.0),
        Periodic(prune_portal_records, 3600.0),
        Periodic(write_release_mail, 300.0),
        Periodic(send_webhooks, 60.0),
        Periodic(write_line_events, 3600.0),
        Periodic(purge_sessions, 3600.0),
        Periodic(backup_daily, 900.0),
        Periodic(rollup_statistics, 600.0),
    ]


# Any number, the same in every worker: the lock under which a worker looks whether another
# has enqueued a periodic task already.
SCHEDULE_LOCK = 0x4C6963656E746961  # "Licentia"
# A copy enqueued by any worker less than (interval - SLACK) ago counts as this run's.
SLACK = timedelta(seconds=2)


def periodic_claim(periodic: Periodic) -> bool:
    """Enqueues the task unless a worker did within its interval; True when this one did.
    Workers look and enqueue one at a time (PostgreSQL: an advisory lock held to the end of
    the transaction; SQLite: the immediate transaction holds the database's write lock), so
    with several workers each periodic task still runs once an interval."""
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK])
        since = timezone.now() - timedelta(seconds=periodic.interval) + SLACK
        if DBTaskResult.objects.filter(
            task_path=periodic.task.module_path, enqueued_at__gt=since
        ).exists():
            return False
        periodic.task.enqueue()
        return True


def run_schedule(stop: threading.Event, *, tick: float = 1.0) -> None:
    """Enqueues each periodic task whenever its interval has passed, until `stop` is set;
    with several workers, whichever comes first (periodic_claim)."""
    schedule = periodic_tasks()
    while not stop.is_set():
        for periodic in schedule:
            if time.monotonic() < periodic.due:
                continue
            try:
                periodic_claim(periodic)
            except Exception:
                # A database that is away for a moment must not stop the schedule.
                logger.exception("could not enqueue %s", periodic.task.name)
            finally:
                close_old_connections()
            periodic.due = time.monotonic() + periodic.interval
        stop.wait(tick)
