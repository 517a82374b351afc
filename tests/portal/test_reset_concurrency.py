"""The self-service reset limit holds however many resets of one key run at once
(PostgreSQL; SQLite runs every writing transaction alone)."""

import threading

import pytest
from django.db import connection

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.core.models import VendorSettings
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import EndReason, Session
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from licentia.portal.services import ResetLimitReached, client_actor, seat_reset
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("tests")
LIMIT = 2
SEATS = 10


@pytest.fixture
def ten_bound_seats() -> list[Session]:
    VendorSettings.objects.update_or_create(pk=1, defaults={"client_resets_per_30_days": LIMIT})
    product = make_product(1, (20, LicenseType.HOST, SEATS, False))
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    for n in range(SEATS):
        session_capture(key_number=key.number, feature_id=20, unit=Unit(host=f"host-{n}"))
    return list(Session.objects.select_related("key__client"))


def resets_at_once(sessions: list[Session]) -> list[str]:
    start = threading.Barrier(len(sessions))
    outcomes: list[str] = []

    def attempt(session: Session) -> None:
        client = session.key.client
        try:
            connection.ensure_connection()
            start.wait()
            seat_reset(
                client=client,
                session=session,
                actor=client_actor(client=client, email="buh@romashka.ru", ip=None),
            )
            outcomes.append("reset")
        except ResetLimitReached:
            outcomes.append("limit")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_ten_resets_of_one_key_at_once_stop_at_the_limit(ten_bound_seats) -> None:
    outcomes = resets_at_once(ten_bound_seats)

    assert outcomes.count("reset") == LIMIT
    assert outcomes.count("limit") == SEATS - LIMIT
    assert Session.objects.filter(end_reason=EndReason.RESET_BY_CLIENT).count() == LIMIT


def test_without_the_key_lock_resets_at_once_pass_the_limit(settings, ten_bound_seats) -> None:
    """The control: it shows that the test above can see a race, so its pass means the lock
    works."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's immediate transactions serialise resets without a row lock")
    settings.LICENTIA_RESET_LOCK = False

    outcomes = resets_at_once(ten_bound_seats)

    assert outcomes.count("reset") > LIMIT
    assert Session.objects.filter(end_reason=EndReason.RESET_BY_CLIENT).count() > LIMIT
