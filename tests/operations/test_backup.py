"""Backups taken while the protocol captures seats, restored into a fresh database."""

import threading
from pathlib import Path

import pytest
from django.db import close_old_connections, connection, connections

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.core.backup import backup_restore, backup_write
from licentia.core.backup_runs import backup_daily_run, backup_take
from licentia.core.dbmove import table_sums
from licentia.core.models import AuditEvent, BackupKind, BackupRun, BackupStatus, VendorSettings
from licentia.core.preflight import OperatorError
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import Session
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("tests")
CAPTURES = 120


@pytest.fixture
def key_number() -> str:
    product = make_product(1, (10, LicenseType.USER, 1000, False))
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    return key.number


def _rows(alias: str) -> dict[int, tuple]:
    return {
        row[0]: row
        for row in Session.objects.using(alias).values_list("id", "unit", "started_at", "key_id")
    }


def test_a_backup_taken_while_captures_run_restores_every_row_equal(
    key_number: str, tmp_path: Path, restored_database: str
) -> None:
    halfway = threading.Event()

    def capture_many() -> None:
        try:
            for number in range(CAPTURES):
                session_capture(
                    key_number=key_number, feature_id=10, unit=Unit(user=f"u{number}", host="h")
                )
                if number == CAPTURES // 3:
                    halfway.set()
        finally:
            halfway.set()
            close_old_connections()

    worker = threading.Thread(target=capture_many)
    worker.start()
    halfway.wait(timeout=60)
    during = backup_write(destination=tmp_path / "during")
    worker.join()

    backup_restore(path=during.path, alias=restored_database)
    restored, live = _rows(restored_database), _rows("default")
    # The copy is the database at one instant: some of the captures, each whole and as it is.
    assert CAPTURES // 3 <= len(restored) <= CAPTURES
    assert all(live[pk] == row for pk, row in restored.items())
    assert len(live) == CAPTURES

    after = backup_write(destination=tmp_path / "after")
    connections[restored_database].close()
    with pytest.raises(OperatorError, match="not empty"):
        backup_restore(path=after.path, alias=restored_database)
    backup_restore(path=after.path, alias=restored_database, replace=True)
    assert table_sums(restored_database) == table_sums("default")
    assert after.path.name.startswith("licentia-")
    assert f"-schema-{after.schema}." in after.path.name
    restored_key = VendorSettings.objects.using(restored_database).get()
    assert restored_key.signing_private_key_encrypted == (
        VendorSettings.objects.get().signing_private_key_encrypted
    )


def test_a_backup_restored_with_another_secret_key_is_refused_before_anything_changes(
    key_number: str, tmp_path: Path, restored_database: str, settings
) -> None:
    backup = backup_write(destination=tmp_path)
    settings.SECRET_KEY = "another-secret-key-another-secret-key-another-secret"

    with pytest.raises(OperatorError, match="another SECRET_KEY"):
        backup_restore(path=backup.path, alias=restored_database)

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY, _original_secret()]
    backup_restore(path=backup.path, alias=restored_database)
    assert Session.objects.using(restored_database).count() == 0


def _original_secret() -> str:
    from tests import settings as test_settings

    return test_settings.SECRET_KEY


def test_a_backup_run_is_recorded_with_its_size_and_audited(tmp_path: Path) -> None:
    run = backup_take(destination=tmp_path, kind=BackupKind.MANUAL)

    assert run.status == BackupStatus.DONE
    assert run.size == Path(run.path).stat().st_size > 0
    event = AuditEvent.objects.get(action="backup.take")
    assert (event.object_id, event.after["size"]) == (str(run.pk), run.size)


def test_the_daily_backup_is_off_by_default_then_keeps_the_newest_runs(
    tmp_path: Path, settings
) -> None:
    settings.BACKUP_DIR = tmp_path
    assert backup_daily_run() is None

    VendorSettings.objects.update(backup_daily=True, backup_keep=2)
    first = backup_daily_run()
    assert backup_daily_run() is None  # not due again the same day
    for run in BackupRun.objects.all():
        BackupRun.objects.filter(pk=run.pk).update(started_at=run.started_at.replace(year=2020))
    second = backup_daily_run()
    BackupRun.objects.filter(pk=second.pk).update(started_at=second.started_at.replace(year=2021))
    third = backup_daily_run()

    assert [run.status for run in (first, second, third)] == [BackupStatus.DONE] * 3
    first.refresh_from_db()
    assert first.removed_at is not None
    assert not Path(first.path).exists()
    assert Path(second.path).exists()
    assert Path(third.path).exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [Path(second.path).name, Path(third.path).name]
    )
    assert connection.vendor in {"sqlite", "postgresql"}
