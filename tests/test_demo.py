from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from licentia.cabinet.demo import demo_seed
from licentia.catalog.models import Product
from licentia.coupons.models import Activation, Coupon, CouponBatch
from licentia.coupons.selectors import CouponState, coupon_state
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import KeyState, key_state
from licentia.licensing.models import Problem, Session, TokenConsumption
from licentia.statistics.models import FeatureUsageDay, MetricDay, TrialDay


@pytest.mark.django_db
def test_the_demo_holds_a_catalog_and_keys_in_every_state(tmp_path) -> None:
    login = demo_seed(data_dir=tmp_path)

    assert login.username == "admin"
    assert demo_seed(data_dir=tmp_path) == login
    pro = Product.objects.get(name_ru="Торговля PRO")
    assert pro.ends_trials.filter(trial_days__gt=0).exists()
    states = {key_state(key) for key in LicenseKey.objects.all()}
    assert states == {
        KeyState.ACTIVE,
        KeyState.TRIAL,
        KeyState.EXPIRING,
        KeyState.EXPIRED,
        KeyState.BLOCKED,
        KeyState.EMPTY,
    }


@pytest.mark.django_db
def test_the_demo_shows_seats_held_a_released_one_a_problem_and_tokens_used(tmp_path) -> None:
    demo_seed(data_dir=tmp_path)

    assert Session.objects.filter(ended_at__isnull=True).count() == 5
    today = timezone.localdate()
    released_today = Session.objects.filter(end_reason="released", started_at__date=today)
    assert released_today.count() == 1
    assert Problem.objects.get(day=today).code == 2008
    assert TokenConsumption.objects.get().amount == 120


@pytest.mark.django_db
def test_the_demo_has_coupon_batches_activated_free_and_blocked(tmp_path) -> None:
    demo_seed(data_dir=tmp_path)

    assert CouponBatch.objects.count() == 3
    states = Counter(coupon_state(coupon) for coupon in Coupon.objects.select_related("batch"))
    assert states == {
        CouponState.FREE: 6,
        CouponState.ACTIVATED: 1,
        CouponState.REUSABLE: 1,
        CouponState.BLOCKED: 1,
    }
    assert Activation.objects.count() == 2


@pytest.mark.django_db
def test_the_demo_holds_months_of_history_rolled_up_for_the_statistics(tmp_path) -> None:
    demo_seed(data_dir=tmp_path)

    today = timezone.localdate()
    used = FeatureUsageDay.objects.filter(feature_id=0, units__gt=0)
    assert used.filter(day__lt=today - timedelta(days=90)).exists()
    assert TrialDay.objects.filter(day__lt=today - timedelta(days=60)).exists()
    assert MetricDay.objects.filter(name="configuration").exists()


@pytest.mark.django_db
def test_no_trial_of_the_demo_history_ends_near_the_moment_it_is_seeded(tmp_path) -> None:
    demo_seed(data_dir=tmp_path)

    now = timezone.now()
    near = KeyLine.objects.filter(
        is_trial=True,
        expires_at__gt=now - timedelta(days=2),
        expires_at__lt=now + timedelta(days=2),
    )
    assert not near.exists()
