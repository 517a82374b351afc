"""The minute sweep, case by case: which open sessions it ends, as what, and which it leaves."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from licentia.catalog.models import LicenseType, ProductFeature, TrialCounting
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import EndReason, Session
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.services.sweep import sessions_sweep
from licentia.licensing.units import Unit
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR

pytestmark = pytest.mark.django_db

NOTHING = {"timeout": 0, "key_blocked": 0, "license_ended": 0}


def local_noon(days: int = 1) -> datetime:
    """Noon of a local day (tomorrow's unless told): after the fixtures' lines started, and an
    hour either side is the same day, whenever the tests run."""
    day = timezone.localtime() + timedelta(days=days)
    return day.replace(hour=12, minute=0, second=0, microsecond=0)


def capture(key: LicenseKey, feature_id: int, user: str, at: datetime) -> Session:
    unit = Unit(user, "h") if feature_id == 10 else Unit(host=user)
    return session_capture(key_number=key.number, feature_id=feature_id, unit=unit, at=at).session


def ended(session: Session) -> tuple[datetime | None, str]:
    session.refresh_from_db()
    return session.ended_at, session.end_reason


def test_nothing_changed_ends_nothing(key) -> None:
    now = local_noon()
    sessions = [capture(key, 10, "a", now), capture(key, 20, "srv", now)]

    assert sessions_sweep(at=now + timedelta(seconds=30)) == NOTHING
    assert [ended(session) for session in sessions] == [(None, ""), (None, "")]


def test_a_lease_that_ran_out_ends_at_its_end_and_a_renewed_one_stays(key) -> None:
    now = local_noon()
    lapsed, renewed = capture(key, 10, "a", now), capture(key, 10, "b", now)
    capture(key, 10, "b", now + timedelta(seconds=500))

    swept = sessions_sweep(at=now + timedelta(seconds=700))

    assert swept == {**NOTHING, "timeout": 1}
    assert ended(lapsed) == (lapsed.holds_until, EndReason.TIMED_OUT)
    assert ended(renewed) == (None, "")


def test_a_blocked_key_loses_every_session_and_another_key_keeps_its_own(key) -> None:
    other = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=other, product=key.lines.get().product, actor=ACTOR)
    now = local_noon()
    blocked = [capture(key, 10, "a", now), capture(key, 20, "srv", now)]
    kept = capture(other, 10, "a", now)
    LicenseKey.objects.filter(pk=key.pk).update(blocked=True)

    swept = sessions_sweep(at=now + timedelta(seconds=1))

    assert swept == {**NOTHING, "key_blocked": 2}
    assert {ended(session)[1] for session in blocked} == {EndReason.KEY_BLOCKED}
    assert ended(kept) == (None, "")


def test_a_line_ended_by_a_manager_ends_its_sessions(key) -> None:
    now = local_noon()
    session = capture(key, 10, "a", now)
    KeyLine.objects.filter(key=key).update(state=LineState.ENDED_BY_MANAGER, ended_at=now)

    assert sessions_sweep(at=now + timedelta(seconds=1))["license_ended"] == 1
    assert ended(session) == (now + timedelta(seconds=1), EndReason.LICENSE_ENDED)


def test_a_line_that_expired_ends_its_sessions_at_the_sweep(key) -> None:
    now = local_noon()
    session = capture(key, 20, "srv", now)
    KeyLine.objects.filter(key=key).update(expires_at=now + timedelta(minutes=1))

    assert sessions_sweep(at=now + timedelta(seconds=59)) == NOTHING
    assert sessions_sweep(at=now + timedelta(seconds=60))["license_ended"] == 1
    assert ended(session)[1] == EndReason.LICENSE_ENDED


def test_a_line_moved_to_start_later_holds_no_seat_now(key) -> None:
    now = local_noon()
    session = capture(key, 10, "a", now)
    KeyLine.objects.filter(key=key).update(starts_at=now + timedelta(days=1))

    assert sessions_sweep(at=now + timedelta(seconds=1))["license_ended"] == 1
    assert ended(session)[1] == EndReason.LICENSE_ENDED


def test_a_second_live_line_with_the_feature_keeps_the_session(key) -> None:
    now = local_noon()
    first = key.lines.get()
    key_line_add(key=key, product=first.product, actor=ACTOR, starts_at=now - timedelta(days=1))
    session = capture(key, 10, "a", now)
    KeyLine.objects.filter(pk=first.pk).update(state=LineState.ENDED_BY_MANAGER)

    assert sessions_sweep(at=now + timedelta(seconds=1)) == NOTHING
    assert ended(session) == (None, "")


def test_a_feature_line_removed_from_the_product_ends_its_sessions_only(key) -> None:
    now = local_noon()
    user_seat, host_seat = capture(key, 10, "a", now), capture(key, 20, "srv", now)
    ProductFeature.objects.filter(feature_id=20).delete()

    assert sessions_sweep(at=now + timedelta(seconds=1))["license_ended"] == 1
    assert ended(host_seat)[1] == EndReason.LICENSE_ENDED
    assert ended(user_seat) == (None, "")


def test_a_feature_line_given_another_license_type_ends_the_sessions_of_the_old_one(key) -> None:
    now = local_noon()
    session = capture(key, 10, "a", now)
    ProductFeature.objects.filter(feature_id=10).update(license_type=LicenseType.HOST)

    assert sessions_sweep(at=now + timedelta(seconds=1))["license_ended"] == 1
    assert ended(session)[1] == EndReason.LICENSE_ENDED


def test_a_usage_counted_trial_holds_through_its_last_day_of_use_and_ends_the_next() -> None:
    trial = make_product(
        5, (10, LicenseType.USER, 1, False), trial_days=2, trial_counting=TrialCounting.USAGE
    )
    key = license_key_generate(client=make_client(), actor=ACTOR)
    line = key_line_add(
        key=key, product=trial, actor=ACTOR, is_trial=True, starts_at=local_noon(-5)
    )
    now = local_noon()
    session = capture(key, 10, "a", now)
    # The capture used today; as if yesterday had been used too: both days are used up.
    KeyLine.objects.filter(pk=line.pk).update(used_days=2)

    assert sessions_sweep(at=now + timedelta(minutes=1)) == NOTHING
    KeyLine.objects.filter(pk=line.pk).update(last_used_on=(now - timedelta(days=1)).date())
    assert sessions_sweep(at=now + timedelta(minutes=1))["license_ended"] == 1
    assert ended(session)[1] == EndReason.LICENSE_ENDED


def test_a_calendar_trial_is_not_counted_in_days_of_use() -> None:
    trial = make_product(6, (10, LicenseType.USER, 1, False), trial_days=2)
    key = license_key_generate(client=make_client(), actor=ACTOR)
    line = key_line_add(key=key, product=trial, actor=ACTOR, is_trial=True)
    now = local_noon()
    session = capture(key, 10, "a", now)
    KeyLine.objects.filter(pk=line.pk).update(used_days=9, last_used_on=local_noon(-3).date())

    assert sessions_sweep(at=now + timedelta(seconds=1)) == NOTHING
    assert ended(session) == (None, "")


def test_an_ended_session_is_never_ended_again(key) -> None:
    now = local_noon()
    session = capture(key, 10, "a", now)
    sessions_sweep(at=now + timedelta(seconds=700))
    KeyLine.objects.filter(key=key).update(state=LineState.ENDED_BY_MANAGER)
    LicenseKey.objects.filter(pk=key.pk).update(blocked=True)

    assert sessions_sweep(at=now + timedelta(seconds=800)) == NOTHING
    assert ended(session) == (now + timedelta(seconds=600), EndReason.TIMED_OUT)
