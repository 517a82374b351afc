"""Capacity is never exceeded however many units capture at once."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import Session
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR

pytestmark = pytest.mark.django_db(transaction=True)
UNITS = 64
CAPACITY = 5


@pytest.fixture
def five_seats() -> LicenseKey:
    product = make_product(1, (10, LicenseType.USER, CAPACITY, False))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    return key


def capture_all_at_once(key: LicenseKey) -> list[str]:
    start = threading.Barrier(UNITS)
    outcomes: list[str] = []

    def capture(number: int) -> None:
        try:
            # Connected before the start, so that the captures themselves run at once.
            connection.ensure_connection()
            start.wait()
            session_capture(key_number=key.number, feature_id=10, unit=Unit(f"u{number}", "h"))
            outcomes.append("seat")
        except Refusal as refusal:
            outcomes.append(str(refusal.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=capture, args=(number,)) for number in range(UNITS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_64_concurrent_captures_of_5_seats_give_exactly_5(five_seats) -> None:
    outcomes = capture_all_at_once(five_seats)

    assert outcomes.count("seat") == CAPACITY
    assert outcomes.count("2008") == UNITS - CAPACITY
    assert Session.objects.filter(key=five_seats).count() == CAPACITY


def test_without_the_key_lock_the_same_captures_oversell(five_seats, settings) -> None:
    """The control: it shows that the test above can see a race, so its pass means the lock
    works. SQLite runs every writing transaction alone, so the race exists only on PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's immediate transactions serialise captures without a row lock")
    settings.LICENTIA_CAPTURE_LOCK = False

    # The threads may happen to run one after another on a busy machine: a few rounds.
    for _round in range(5):
        outcomes = capture_all_at_once(five_seats)
        if outcomes.count("seat") > CAPACITY:
            break
        Session.objects.filter(key=five_seats).delete()

    assert Session.objects.filter(key=five_seats).count() > CAPACITY
    assert outcomes.count("seat") > CAPACITY


def test_a_capture_that_waited_for_the_key_lock_starts_when_it_got_it(five_seats) -> None:
    """A seat is taken when the lock is had, not when the request came: otherwise a capture
    that waited behind a release shows in the history as overlapping the released seat."""
    locked, released_at = threading.Event(), []

    def hold_the_key() -> None:
        try:
            with transaction.atomic():
                LicenseKey.objects.select_for_update().get(pk=five_seats.pk)
                locked.set()
                time.sleep(0.5)
                released_at.append(timezone.now())
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_key)
    holder.start()
    locked.wait(5)
    granted = session_capture(key_number=five_seats.number, feature_id=10, unit=Unit("u", "h"))
    holder.join(5)

    assert granted.session.started_at >= released_at[0]
    assert Session.objects.get().started_at == granted.session.started_at
