from datetime import timedelta

import pytest
from django.utils import timezone

from licentia.catalog.models import LicenseType, TrialCounting
from licentia.core.audit import Actor
from licentia.keys.models import LineState
from licentia.keys.selectors import KeyState, key_capacity, key_state, line_sentence
from licentia.keys.services import key_line_add, key_line_end, key_set_blocked, license_key_generate
from tests.factories import make_client
from tests.factories import make_product as product

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
NOW = timezone.now()


@pytest.fixture
def key():
    return license_key_generate(client=make_client(), actor=ACTOR)


def test_products_pool_one_feature_and_the_multiplier_counts_only_where_allowed(key) -> None:
    basic = product(1, (54, LicenseType.USER, 2, True), (60, LicenseType.HOST, 1, False))
    addon = product(2, (54, LicenseType.USER, 5, False))
    key_line_add(key=key, product=basic, multiplier=3, actor=ACTOR)
    key_line_add(key=key, product=addon, multiplier=4, actor=ACTOR)

    assert key_capacity(key) == {(54, "USER"): 2 * 3 + 5, (60, "HOST"): 1}


def test_expired_ended_and_future_lines_do_not_count(key) -> None:
    basic = product(1, (54, LicenseType.USER, 2, False))
    key_line_add(
        key=key,
        product=basic,
        starts_at=NOW - timedelta(days=30),
        expires_at=NOW - timedelta(days=1),
        actor=ACTOR,
    )
    ended = key_line_add(key=key, product=basic, actor=ACTOR)
    key_line_end(line=ended, actor=ACTOR)
    key_line_add(key=key, product=basic, starts_at=NOW + timedelta(days=5), actor=ACTOR)

    assert key_capacity(key) == {(54, "USER"): 0}
    assert key_capacity(key, at=NOW + timedelta(days=6)) == {(54, "USER"): 2}


def test_a_blocked_key_has_no_capacity(key) -> None:
    key_line_add(key=key, product=product(1, (54, LicenseType.USER, 10, False)), actor=ACTOR)

    blocked = key_set_blocked(key=key, blocked=True, actor=ACTOR)

    assert key_capacity(blocked) == {(54, "USER"): 0}
    assert key_state(blocked) == KeyState.BLOCKED


def test_token_pools_are_separate_from_seats(key) -> None:
    key_line_add(
        key=key,
        product=product(1, (54, LicenseType.USER, 3, False), (54, LicenseType.TOKEN, 1000, True)),
        multiplier=2,
        actor=ACTOR,
    )

    assert key_capacity(key) == {(54, "USER"): 3, (54, "TOKEN"): 2000}


def test_a_usage_counted_trial_ends_when_its_days_are_used(key) -> None:
    trial = product(
        1, (54, LicenseType.USER, 1, False), trial_days=3, trial_counting=TrialCounting.USAGE
    )
    line = key_line_add(key=key, product=trial, is_trial=True, actor=ACTOR)
    assert key_capacity(key) == {(54, "USER"): 1}

    line.used_days = 3
    line.save()

    assert key_capacity(key) == {(54, "USER"): 0}
    assert line_sentence(line).startswith("Триал закончился")


@pytest.mark.parametrize(
    ("fields", "sentence", "state"),
    [
        ({}, "Бессрочная", KeyState.ACTIVE),
        ({"expires_at": NOW + timedelta(days=100)}, "Лицензия активна до", KeyState.ACTIVE),
        (
            # Noon of the local day five days on: five days left at any time of running.
            {"expires_at": timezone.localtime(NOW).replace(hour=12) + timedelta(days=5)},
            "Истекает через 5 дней",
            KeyState.EXPIRING,
        ),
        (
            {"expires_at": NOW - timedelta(days=1), "starts_at": NOW - timedelta(days=9)},
            "Лицензия истекла",
            KeyState.EXPIRED,
        ),
        (
            {"is_trial": True, "expires_at": NOW + timedelta(days=60)},
            "Триал активен до",
            KeyState.TRIAL,
        ),
        (
            {
                "is_trial": True,
                "expires_at": NOW - timedelta(days=1),
                "starts_at": NOW - timedelta(days=9),
            },
            "Триал закончился",
            KeyState.EXPIRED,
        ),
    ],
)
def test_a_line_reads_as_managers_expect(key, fields, sentence, state) -> None:
    line = key_line_add(
        key=key, product=product(1, (54, LicenseType.USER, 1, False)), actor=ACTOR, **fields
    )

    assert line_sentence(line).startswith(sentence)
    assert key_state(key) == state


def test_an_empty_key_and_an_ended_line(key) -> None:
    assert key_state(key) == KeyState.EMPTY
    line = key_line_add(key=key, product=product(1, (54, LicenseType.USER, 1, False)), actor=ACTOR)

    ended = key_line_end(line=line, actor=ACTOR)

    assert ended.state == LineState.ENDED_BY_MANAGER
    assert line_sentence(ended).startswith("Завершена менеджером")
    assert key_state(key) == KeyState.EXPIRED
