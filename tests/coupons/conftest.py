from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from licentia.catalog.models import LicenseType, TrialCounting
from licentia.core.audit import Actor
from licentia.coupons.models import Coupon, CouponKind, Door
from licentia.coupons.services import Row, coupon_activate, coupon_batch_generate
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from tests.factories import make_client, make_product
from tests.licensing.conftest import call  # noqa: F401 - the protocol fixture, here too

ACTOR = Actor.system("tests")


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The services' messages read in English here; the protocol test asks for Russian."""
    with translation.override("en"):
        yield


@pytest.fixture
def catalog() -> dict[str, Any]:
    """PRO (id 2) allows a multiplier on 2 USER seats of feature 10 and ends the trials of
    BASE (id 1); BASE gives a 14-day calendar trial; USAGE (id 3) a 5-day usage trial."""
    base = make_product(1, (10, LicenseType.USER, 1, False), trial_days=14)
    pro = make_product(2, (10, LicenseType.USER, 2, True), (20, LicenseType.HOST, 1, False))
    pro.ends_trials.add(base)
    usage = make_product(
        3, (30, LicenseType.USER, 1, False), trial_days=5, trial_counting=TrialCounting.USAGE
    )
    return {"base": base, "pro": pro, "usage": usage}


@pytest.fixture
def key(catalog: dict[str, Any]) -> LicenseKey:
    """A key with a BASE trial that ends in 3 days."""
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    now = timezone.now()
    key_line_add(
        key=key,
        product=catalog["base"],
        actor=ACTOR,
        is_trial=True,
        starts_at=now - timedelta(days=11),
        expires_at=now + timedelta(days=3),
    )
    return key


def make_coupons(kind: str = CouponKind.NEW_PRODUCT, *rows: Row, **fields: Any) -> list[Coupon]:
    batch = coupon_batch_generate(kind=kind, rows=rows, actor=ACTOR, **fields)
    return list(batch.coupons.order_by("id"))


def activate(key: LicenseKey, coupon: Coupon | str, **fields: Any) -> Any:
    return coupon_activate(
        key_number=key.number,
        code=coupon if isinstance(coupon, str) else coupon.code,
        door=fields.pop("door", Door.CABINET),
        actor=ACTOR,
        **fields,
    )
