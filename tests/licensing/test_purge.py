"""Ended sessions are kept for the retention period and for the apps above that still read
them, then deleted by the worker in batches."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from licentia.core.selectors import vendor_settings_get
from licentia.licensing.models import EndReason, Session
from licentia.licensing.services.purge import purge_horizon, sessions_purge
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.signals import sessions_purge_horizon
from licentia.licensing.tasks import purge_sessions
from licentia.licensing.units import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def purge_alone() -> Iterator[None]:
    """Statistics answers the horizon too (it keeps what it has not rolled up); here the purge
    is tested alone, with the receivers each test connects."""
    from licentia.statistics.receivers import sessions_needed_from

    sessions_purge_horizon.disconnect(sessions_needed_from)
    yield
    sessions_purge_horizon.connect(sessions_needed_from)


@pytest.fixture(autouse=True)
def moment() -> None:
    """NOW: a minute after the key fixture's line started, whatever the hour."""
    global NOW
    NOW = timezone.now() + timedelta(minutes=1)


NOW = timezone.now()


def sessions_ended(key, *days_ago: int) -> list[Session]:
    """One session per age, each ended that many days before NOW."""
    made = []
    for index, days in enumerate(days_ago):
        granted = session_capture(
            key_number=key.number, feature_id=10, unit=Unit(f"u{index}", "h"), at=NOW
        )
        Session.objects.filter(pk=granted.session.pk).update(
            ended_at=NOW - timedelta(days=days), end_reason=EndReason.RELEASED
        )
        made.append(granted.session)
    return made


def retention_days(days: int) -> None:
    vendor = vendor_settings_get()
    vendor.session_retention_days = days
    vendor.save()  # the process's copy is cleared on save


def remaining() -> set[int]:
    return set(Session.objects.values_list("id", flat=True))


def test_sessions_ended_before_the_retention_period_are_deleted_and_younger_ones_kept(key) -> None:
    retention_days(180)
    old, edge, young = sessions_ended(key, 181, 180, 30)
    open_session = session_capture(
        key_number=key.number, feature_id=10, unit=Unit("now", "h"), at=NOW
    ).session

    assert sessions_purge(at=NOW) == 1
    assert remaining() == {edge.pk, young.pk, open_session.pk}
    assert old.pk not in remaining()


def test_the_purge_goes_in_batches_by_id_range_and_misses_none(key) -> None:
    made = sessions_ended(key, *([200] * 7), 10)

    assert sessions_purge(at=NOW, batch_ids=2) == 7
    assert remaining() == {made[-1].pk}


def test_an_app_that_still_reads_older_sessions_keeps_them(key) -> None:
    retention_days(60)
    ancient, needed, old = sessions_ended(key, 400, 300, 100)

    def statistics_need(*, moment: datetime, **_: object) -> datetime:
        assert moment == NOW
        return NOW - timedelta(days=301)

    def needs_nothing(**_: object) -> None:
        return None

    sessions_purge_horizon.connect(statistics_need, weak=False)
    sessions_purge_horizon.connect(needs_nothing, weak=False)
    try:
        assert purge_horizon(moment=NOW) == NOW - timedelta(days=301)
        assert sessions_purge(at=NOW) == 1
    finally:
        sessions_purge_horizon.disconnect(statistics_need)
        sessions_purge_horizon.disconnect(needs_nothing)
    assert remaining() == {needed.pk, old.pk}
    assert ancient.pk not in remaining()


def test_a_horizon_later_than_the_retention_period_deletes_no_more(key) -> None:
    retention_days(180)
    sessions_ended(key, 100)

    def generous(**_: object) -> datetime:
        return NOW

    sessions_purge_horizon.connect(generous, weak=False)
    try:
        assert sessions_purge(at=NOW) == 0
    finally:
        sessions_purge_horizon.disconnect(generous)
    assert len(remaining()) == 1


def test_the_worker_task_purges(key) -> None:
    retention_days(31)
    session = session_capture(key_number=key.number, feature_id=10, unit=Unit("u", "h")).session
    Session.objects.filter(pk=session.pk).update(
        ended_at=timezone.now() - timedelta(days=40), end_reason=EndReason.RELEASED
    )

    result = purge_sessions.enqueue()

    assert result.return_value == 1
    assert not Session.objects.exists()
