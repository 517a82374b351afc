"""The month rollups (trial conversions, metric months) hold what a direct count over the raw
records gives, whatever the history: the conversion cohorts against the key lines, the pivot
against the daily metric rollup."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licentia.catalog.models import LicenseType, ProductFeature
from licentia.clients.merge import clients_merge
from licentia.core.audit import Actor
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.statistics import selectors
from licentia.statistics.models import (
    ConversionCohort,
    MetricDay,
    MetricKeyMonth,
    MetricMonth,
    MetricObservation,
    RollupState,
)
from licentia.statistics.services import day_start, days_rollup, local_day, statistics_rollup
from tests.factories import make_client, make_product

# Two months' ends inside the history, so that trial months and metric months both change.
FIRST_DAY = date(2026, 3, 20)
DAYS = 45
MINUTES = DAYS * 24 * 60
PRODUCTS = (10, 20, 30)
WITHIN = (1, 2, 7, 30)

lines_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),  # key
        st.sampled_from(PRODUCTS),
        st.booleans(),  # trial
        st.integers(0, MINUTES - 1),  # created, minutes after the first day began
        st.one_of(st.none(), st.integers(0, 20 * 24 * 60)),  # removed by a coupon so much later
    ),
    max_size=14,
)
observations_strategy = st.lists(
    st.tuples(
        st.integers(0, 2),  # key
        st.sampled_from(["configuration", "platform_version", "function"]),
        st.sampled_from(["A", "B"]),  # value
        st.integers(0, DAYS - 1),  # day
        st.integers(1, 5),  # count
    ),
    max_size=20,
)


@pytest.fixture
def keys(db: None) -> list[LicenseKey]:
    # Product 30 has both features: a trial of 10 is bought, for feature 1, by a line of 30.
    make_product(10, (1, LicenseType.USER, 5, False))
    make_product(20, (2, LicenseType.HOST, 5, False))
    make_product(30, (1, LicenseType.USER, 5, False), (2, LicenseType.HOST, 5, False))
    return [
        LicenseKey.objects.create(
            number=f"TEST-{index}", client=make_client(company=f"Фирма {index}")
        )
        for index in range(3)
    ]


def _start() -> datetime:
    return day_start(FIRST_DAY)


def _write_lines(keys: list[LicenseKey], history: list[tuple]) -> None:
    for key_index, product_id, trial, minute, removed_after in history:
        created = _start() + timedelta(minutes=minute)
        line = KeyLine.objects.create(
            key=keys[key_index], product_id=product_id, is_trial=trial, starts_at=created
        )
        changes: dict = {"created_at": created}
        if removed_after is not None and not trial:
            changes |= {
                "state": LineState.REMOVED_BY_COUPON,
                "ended_at": created + timedelta(minutes=removed_after),
            }
        KeyLine.objects.filter(pk=line.pk).update(**changes)


def _direct_cohorts(within: int, *, per_feature: bool) -> dict[tuple, tuple[int, int]]:
    """(month, product, feature) -> (trials, bought within the days), from the key lines."""
    features: dict[int, set[int]] = defaultdict(set)
    for product_id, feature_id in ProductFeature.objects.values_list("product_id", "feature_id"):
        features[product_id].add(feature_id)
    bought = [
        line
        for line in KeyLine.objects.filter(is_trial=False)
        if line.state != LineState.REMOVED_BY_COUPON
    ]
    figures: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for trial in KeyLine.objects.filter(is_trial=True):
        month = local_day(trial.created_at).replace(day=1)
        deadline = trial.created_at + timedelta(days=within)
        groups = (
            [
                (f, lambda line, f=f: f in features[line.product_id])
                for f in features[trial.product_id]
            ]
            if per_feature
            else [(0, lambda line, p=trial.product_id: line.product_id == p)]
        )
        for feature_id, matches in groups:
            entry = figures[(month, trial.product_id, feature_id)]
            entry[0] += 1
            if any(
                line.key_id == trial.key_id
                and matches(line)
                and trial.created_at <= line.created_at <= deadline
                for line in bought
            ):
                entry[1] += 1
    return {where: (trials, converted) for where, (trials, converted) in figures.items()}


def _rolled_cohorts(within: int, *, per_feature: bool) -> dict[tuple, tuple[int, int]]:
    names = {f"Продукт {product_id}": product_id for product_id in PRODUCTS}
    features = {f"Фича {feature_id}": feature_id for feature_id in (1, 2)}
    return {
        (
            cohort.month,
            names[cohort.product],
            features[cohort.feature] if per_feature else 0,
        ): (cohort.trials, cohort.converted)
        for cohort in selectors.conversion_cohorts(
            first=FIRST_DAY.replace(day=1),
            last=FIRST_DAY + timedelta(days=DAYS),
            within_days=within,
            product_ids=[],
            per_feature=per_feature,
        )
    }


def _write_observations(keys: list[LicenseKey], history: list[tuple]) -> None:
    for key_index, name, value, day, count in history:
        moment = _start() + timedelta(days=day, hours=10)
        MetricObservation.objects.create(
            key=keys[key_index],
            name=name,
            value=value if name == "function" else f"{name} {value}",
            count=count,
            at=moment,
            received_at=moment,
        )


def _pivot(row: str, column: str, measure: str, first: date, last: date) -> tuple:
    result = selectors.pivot(
        row=row, column=column, measure=measure, filters={}, first=first, last=last
    )
    return result.columns, result.rows, result.column_totals, result.total


def _pivot_from_days(row: str, column: str, measure: str, first: date, last: date) -> tuple:
    """The same pivot read from the daily rows of its whole months."""
    daily = MetricDay.objects.filter(month__gte=first.replace(day=1), month__lte=last)
    with mock.patch.object(selectors, "_pivot_sources", return_value=[daily]):
        return _pivot(row, column, measure, first, last)


def _everything() -> list[list]:
    return [
        sorted(
            ConversionCohort.objects.values_list(
                "month", "product_id", "feature_id", "days", "trials"
            ),
            key=str,
        ),
        sorted(
            MetricMonth.objects.values_list(
                "month",
                "key_id",
                "feature_id",
                "name",
                "value",
                "count",
                "platform_version",
                "configuration",
            ),
            key=str,
        ),
        sorted(
            MetricKeyMonth.objects.values_list(
                "month", "key_id", "count", "platform_version", "configuration"
            ),
            key=str,
        ),
    ]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=lines_strategy, observations=observations_strategy)
def test_the_month_rollups_equal_direct_counts_of_the_raw_records(
    keys: list[LicenseKey], lines: list[tuple], observations: list[tuple]
) -> None:
    with transaction.atomic():
        _write_lines(keys, lines)
        _write_observations(keys, observations)
        # Rolled up in three runs, as the worker does as days pass.
        statistics_rollup(now=_start() + timedelta(days=8, hours=12))
        statistics_rollup(now=_start() + timedelta(days=20, hours=12))
        statistics_rollup(now=_start() + timedelta(days=DAYS + 30, hours=12))

        for within in WITHIN:
            for per_feature in (False, True):
                assert _rolled_cohorts(within, per_feature=per_feature) == _direct_cohorts(
                    within, per_feature=per_feature
                )
        periods = [
            (FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1)),
            (date(2026, 4, 1), date(2026, 4, 30)),
            (date(2026, 4, 3), date(2026, 4, 20)),
        ]
        for first, last in periods:
            for row, column, measure in (
                ("configuration", "month", "keys"),
                ("value", "company", "count"),
                ("platform_version", "name", "keys"),
                ("company", "platform_version", "count"),
            ):
                assert _pivot(row, column, measure, first, last) == _pivot_from_days(
                    row, column, measure, first, last
                )

        before = _everything()
        days_rollup(first=FIRST_DAY, last=FIRST_DAY + timedelta(days=DAYS - 1))
        assert _everything() == before
        transaction.set_rollback(True)


def test_an_installation_rolled_up_before_the_month_rollups_has_them_filled_once(
    keys: list[LicenseKey],
) -> None:
    _write_lines(keys, [(0, 10, True, 60, None), (0, 10, False, 3 * 24 * 60, None)])
    _write_observations(keys, [(1, "configuration", "A", 2, 1)])
    statistics_rollup(now=_start() + timedelta(days=10))
    ConversionCohort.objects.all().delete()
    MetricMonth.objects.all().delete()
    MetricKeyMonth.objects.all().delete()
    RollupState.objects.update(months_filled=False)

    statistics_rollup(now=_start() + timedelta(days=10))

    assert list(
        ConversionCohort.objects.filter(feature_id=0).values_list("month", "product_id", "days")
    ) == [(FIRST_DAY.replace(day=1), 10, 3)]
    assert list(MetricMonth.objects.values_list("month", "key_id", "value")) == [
        (FIRST_DAY.replace(day=1), keys[1].pk, "configuration A")
    ]
    assert list(MetricKeyMonth.objects.values_list("key_id", "configuration", "count")) == [
        (keys[1].pk, "configuration A", 1)
    ]
    assert RollupState.objects.get().months_filled


def test_a_purchase_days_after_the_trial_month_converts_that_month(
    keys: list[LicenseKey],
) -> None:
    late_march = (date(2026, 3, 31) - FIRST_DAY).days * 24 * 60 + 60
    _write_lines(keys, [(0, 10, True, late_march, None)])
    statistics_rollup(now=_start() + timedelta(days=12, hours=12))
    _write_lines(keys, [(0, 10, False, late_march + 2 * 24 * 60, None)])

    statistics_rollup(now=_start() + timedelta(days=20, hours=12))

    assert [
        (cohort.month, cohort.trials, cohort.converted)
        for cohort in selectors.conversion_cohorts(
            first=date(2026, 3, 1), last=date(2026, 3, 31), within_days=2, product_ids=[]
        )
    ] == [(date(2026, 3, 1), 1, 1)]


def test_a_merge_of_clients_moves_their_metric_figures_to_the_main_client(
    keys: list[LicenseKey],
) -> None:
    _write_observations(keys, [(0, "configuration", "A", 1, 1), (1, "configuration", "B", 1, 1)])
    statistics_rollup(now=_start() + timedelta(days=DAYS))
    april = (date(2026, 4, 1), date(2026, 4, 30))
    march = (date(2026, 3, 1), date(2026, 3, 31))
    main, other = keys[0].client, keys[1].client
    assert MetricMonth.objects.count() == 2

    before = selectors.pivot(
        row="company", column="month", measure="keys", filters={}, first=march[0], last=april[1]
    )
    clients_merge(main=main, others=[other], fill=(), actor=Actor.system("tests"))
    after = selectors.pivot(
        row="company", column="month", measure="keys", filters={}, first=march[0], last=april[1]
    )

    assert [(label, total) for label, _values, total in before.rows] == [
        ("Фирма 0", 1),
        ("Фирма 1", 1),
    ]
    assert [(label, total) for label, _values, total in after.rows] == [("Фирма 0", 2)]
    assert MetricDay.objects.filter(key__client=main).count() == 2
