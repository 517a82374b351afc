"""The keys list's state filter is told by the database, as the list's state column tells it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import LicenseType, TrialCounting
from licentia.core.audit import Actor
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import KeyState, key_state, keys_in_state
from licentia.keys.services import key_line_add, key_set_blocked, license_key_generate
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
DAY = timedelta(days=1)


def keys_of_every_state() -> dict[str, list[LicenseKey]]:
    """Keys in every state, with the borders that tell states apart."""
    now = timezone.now()
    bought = make_product(1, (10, LicenseType.USER, 1, False), name_ru="Торговля")
    calendar_trial = make_product(2, (20, LicenseType.USER, 1, False), trial_days=14)
    usage_trial = make_product(
        3, (30, LicenseType.USER, 1, False), trial_days=5, trial_counting=TrialCounting.USAGE
    )
    client = make_client(company="ООО «Все состояния»")

    def key_with(*lines: dict[str, object]) -> LicenseKey:
        key = license_key_generate(client=client, actor=ACTOR)
        for line in lines:
            key_line_add(key=key, actor=ACTOR, **{"product": bought, **line})  # type: ignore[arg-type]
        return key

    blocked = key_with({"expires_at": now + 100 * DAY})
    key_set_blocked(key=blocked, blocked=True, actor=ACTOR)
    used_up = key_with({"product": usage_trial, "is_trial": True})
    KeyLine.objects.filter(key=used_up).update(used_days=5, last_used_on=now.date() - DAY)
    last_day_of_use = key_with({"product": usage_trial, "is_trial": True})
    KeyLine.objects.filter(key=last_day_of_use).update(
        used_days=5, last_used_on=timezone.localdate(now)
    )
    ended_by_manager = key_with({"expires_at": now + 100 * DAY})
    KeyLine.objects.filter(key=ended_by_manager).update(
        state=LineState.ENDED_BY_MANAGER, ended_at=now
    )
    return {
        KeyState.BLOCKED: [blocked],
        KeyState.EMPTY: [key_with()],
        KeyState.TRIAL: [
            key_with({"product": calendar_trial, "is_trial": True, "expires_at": now + 3 * DAY}),
            last_day_of_use,
        ],
        KeyState.EXPIRING: [
            key_with({"expires_at": now + 3 * DAY}),
            key_with(
                {"expires_at": now + 2 * DAY}, {"is_trial": True, "expires_at": now + 5 * DAY}
            ),
        ],
        KeyState.ACTIVE: [
            key_with({}),
            key_with({"expires_at": now + 3 * DAY}, {"product": calendar_trial, "is_trial": True}),
            key_with({"expires_at": now + 300 * DAY}),
        ],
        KeyState.EXPIRED: [
            key_with({"starts_at": now - 30 * DAY, "expires_at": now - DAY}),
            key_with({"starts_at": now + 5 * DAY}),
            used_up,
            ended_by_manager,
        ],
    }


def test_each_state_finds_the_keys_the_state_column_names() -> None:
    expected = keys_of_every_state()
    moment = timezone.now()

    for state in KeyState.values:
        found = set(keys_in_state(LicenseKey.objects.all(), state, at=moment))
        told = {key for key in LicenseKey.objects.all() if key_state(key, at=moment) == state}
        assert found == told == set(expected[state]), state


def test_the_state_filter_reads_keys_in_one_query_however_many_there_are() -> None:
    keys_of_every_state()

    for state in KeyState.values:
        with CaptureQueriesContext(connection) as queries:
            list(keys_in_state(LicenseKey.objects.all(), state))
        assert len(queries) == 1, state


def test_the_filtered_list_costs_the_same_queries_for_more_keys(page_and_queries) -> None:
    product = make_product(1, (10, LicenseType.USER, 1, False), name_ru="Торговля")
    client = make_client(company="ООО «Триал»")

    def add_trial_keys(count: int) -> None:
        for _ in range(count):
            key = license_key_generate(client=client, actor=ACTOR)
            key_line_add(
                key=key,
                product=product,
                actor=ACTOR,
                is_trial=True,
                expires_at=timezone.now() + 10 * DAY,
            )

    url = reverse("admin:keys_licensekey_changelist") + "?state=trial"
    add_trial_keys(2)
    page_and_queries(url)  # the session and the process caches are read once
    few_page, few = page_and_queries(url)
    add_trial_keys(6)
    many_page, many = page_and_queries(url)

    assert "2 ключа" in few_page
    assert "8 ключей" in many_page
    assert many == few
