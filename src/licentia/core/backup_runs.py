"""Backups as recorded runs: taken by the command or by the worker's daily task, listed under
Настройки, audited, and the daily ones kept to the vendor's retention count."""

import logging
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.backup import FILE_PREFIX, backup_write
from licentia.core.models import BackupKind, BackupRun, BackupStatus, VendorSettings
from licentia.core.preflight import first_line
from licentia.core.services import vendor_settings_ensure

logger = logging.getLogger("licentia.backup")
# A daily run is due when no daily backup succeeded for this long.
DAILY_INTERVAL = timedelta(hours=23)
# A run still "running" after this long was cut short (the worker stopped).
RUNNING_STALE = timedelta(hours=6)


def backup_take(*, destination: Path, kind: str, actor: Actor | None = None) -> BackupRun:
    """Takes a backup and records the run (audited); a failure is recorded and raised."""
    actor = actor or Actor.system("licentia backup" if kind == BackupKind.MANUAL else "worker")
    run = BackupRun.objects.create(kind=kind)
    try:
        backup = backup_write(destination=destination)
    except Exception as error:
        with transaction.atomic():
            run.status = BackupStatus.FAILED
            run.error = first_line(error)[:2000]
            run.finished_at = timezone.now()
            run.save()
            audit_record(actor=actor, action="backup.fail", instance=run, after=snapshot(run))
        raise
    with transaction.atomic():
        run.status = BackupStatus.DONE
        run.path = str(backup.path)
        run.size = backup.size
        run.schema = backup.schema
        run.finished_at = timezone.now()
        run.save()
        audit_record(actor=actor, action="backup.take", instance=run, after=snapshot(run))
    return run


def backup_daily_due(now: datetime | None = None) -> bool:
    now = now or timezone.now()
    recent = BackupRun.objects.filter(kind=BackupKind.DAILY, started_at__gt=now - DAILY_INTERVAL)
    return (
        not recent.filter(status=BackupStatus.DONE).exists()
        and not recent.filter(
            status=BackupStatus.RUNNING, started_at__gt=now - RUNNING_STALE
        ).exists()
    )


def backup_daily_run() -> BackupRun | None:
    """The daily backup, when it is turned on and due; then the oldest daily files beyond the
    retention count are deleted. Several workers may call it: the vendor settings row, locked,
    lets one of them start a run."""
    with transaction.atomic():
        vendor = vendor_settings_ensure()
        vendor = VendorSettings.objects.select_for_update().get(pk=vendor.pk)
        if not vendor.backup_daily or not backup_daily_due():
            return None
        run = BackupRun.objects.create(kind=BackupKind.DAILY)
    try:
        backup = backup_write(destination=Path(settings.BACKUP_DIR))
    except Exception as error:
        logger.exception("the daily backup failed")
        with transaction.atomic():
            run.status = BackupStatus.FAILED
            run.error = first_line(error)[:2000]
            run.finished_at = timezone.now()
            run.save()
            audit_record(
                actor=Actor.system("worker"),
                action="backup.fail",
                instance=run,
                after=snapshot(run),
            )
        return run
    with transaction.atomic():
        run.status = BackupStatus.DONE
        run.path = str(backup.path)
        run.size = backup.size
        run.schema = backup.schema
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            actor=Actor.system("worker"), action="backup.take", instance=run, after=snapshot(run)
        )
    backups_prune(keep=vendor.backup_keep)
    return run


def backups_prune(*, keep: int) -> int:
    """Deletes the files of the daily backups beyond the newest `keep`; returns how many."""
    done = BackupRun.objects.filter(
        kind=BackupKind.DAILY, status=BackupStatus.DONE, removed_at__isnull=True
    ).order_by("-started_at", "-id")
    removed = 0
    for run in done[keep:]:
        path = Path(run.path)
        # Only a file this server named, so a mistaken path never deletes anything else.
        if path.name.startswith(FILE_PREFIX):
            path.unlink(missing_ok=True)
        with transaction.atomic():
            run.removed_at = timezone.now()
            run.save(update_fields=["removed_at"])
            audit_record(
                actor=Actor.system("worker"),
                action="backup.remove",
                instance=run,
                after=snapshot(run),
            )
        removed += 1
    return removed
