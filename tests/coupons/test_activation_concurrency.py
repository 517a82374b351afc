"""A coupon is activated once however many activate it at once (PostgreSQL; SQLite runs every
writing transaction alone)."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from licentia.core.audit import Actor
from licentia.coupons.models import Activation, Coupon, CouponKind, Door
from licentia.coupons.services import Row, coupon_activate, coupon_batch_generate
from licentia.keys.models import LicenseKey
from licentia.keys.services import license_key_generate
from licentia.licensing.refusals import Refusal
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = Actor.system("tests")


def all_at_once(attempts: list[Callable[[], None]]) -> list[str]:
    start = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def attempt(run: Callable[[], None]) -> None:
        try:
            # Connected before the start, so that the activations themselves run at once.
            connection.ensure_connection()
            start.wait()
            run()
            outcomes.append("activated")
        except Refusal as refusal:
            outcomes.append(str(refusal.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(run,)) for run in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def activation_of(key: LicenseKey, coupon: Coupon) -> Callable[[], None]:
    def run() -> None:
        coupon_activate(key_number=key.number, code=coupon.code, door=Door.API, actor=ACTOR)

    return run


@pytest.fixture
def single_use_on_16_keys() -> list[Callable[[], None]]:
    product = make_product(1, (10, "USER", 1, False))
    coupon = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=product)], actor=ACTOR
    ).coupons.get()
    keys = [
        license_key_generate(client=make_client(company=f"ООО Клиент {n}"), actor=ACTOR)
        for n in range(16)
    ]
    return [activation_of(key, coupon) for key in keys]


@pytest.fixture
def reusable_by_one_client_8_times() -> list[Callable[[], None]]:
    product = make_product(1, (10, "USER", 1, False), trial_days=14)
    coupon = coupon_batch_generate(
        kind=CouponKind.TRIAL_EXTEND,
        rows=[Row(product=product, days=7)],
        actor=ACTOR,
        reusable=True,
    ).coupons.get()
    client = make_client()
    keys = [license_key_generate(client=client, actor=ACTOR) for _n in range(8)]
    return [activation_of(key, coupon) for key in keys]


def test_16_activations_of_one_single_use_coupon_on_16_keys_succeed_once(
    single_use_on_16_keys,
) -> None:
    outcomes = all_at_once(single_use_on_16_keys)

    assert outcomes.count("activated") == 1
    assert outcomes.count("2041") == 15
    assert Activation.objects.count() == 1


def test_8_activations_of_a_reusable_coupon_by_one_client_succeed_once(
    reusable_by_one_client_8_times,
) -> None:
    outcomes = all_at_once(reusable_by_one_client_8_times)

    assert outcomes.count("activated") == 1
    assert outcomes.count("2041") == 7
    assert Activation.objects.count() == 1


@pytest.fixture
def without_the_coupon_lock(settings) -> None:
    """The control: it shows that the tests above can see a race, so their pass means the lock
    works. SQLite's immediate transactions serialise activations without a row lock."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's immediate transactions serialise activations without a row lock")
    settings.LICENTIA_COUPON_LOCK = False


def test_without_the_coupon_lock_a_single_use_coupon_is_activated_many_times(
    without_the_coupon_lock, single_use_on_16_keys
) -> None:
    outcomes = all_at_once(single_use_on_16_keys)

    assert outcomes.count("activated") > 1
    assert Activation.objects.count() > 1


def test_without_the_coupon_lock_a_reusable_coupon_is_used_twice_by_one_client(
    without_the_coupon_lock, reusable_by_one_client_8_times
) -> None:
    outcomes = all_at_once(reusable_by_one_client_8_times)

    assert outcomes.count("activated") > 1
    assert Activation.objects.count() > 1
