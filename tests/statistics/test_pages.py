"""The statistics pages show the rollups as a chart and a table, and hand the table out."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from licentia.catalog.models import LicenseType
from licentia.coupons.models import Activation, Coupon, CouponBatch, CouponKind, CouponLine, Door
from licentia.keys.models import KeyLine, LicenseKey
from licentia.licensing.models import Problem, Session
from licentia.statistics.services import day_start, days_rollup, statistics_rollup
from tests.factories import make_client, make_product

DAY = date(2026, 2, 10)
PAGES = [
    "statistics_trials",
    "statistics_features",
    "statistics_conversions",
    "statistics_products",
    "statistics_distributors",
    "statistics_connections",
    "statistics_refusals",
    "statistics_pivot",
]


@pytest.fixture
def history(db: None) -> LicenseKey:
    make_product(10, (1, LicenseType.USER, 5, False), name_ru="Зарплата")
    key = LicenseKey.objects.create(number="TEST-1", client=make_client())
    noon = day_start(DAY) + timedelta(hours=12)
    trial = KeyLine.objects.create(key=key, product_id=10, is_trial=True, starts_at=noon)
    bought = KeyLine.objects.create(key=key, product_id=10, starts_at=noon + timedelta(days=3))
    KeyLine.objects.filter(pk=trial.pk).update(created_at=noon)
    KeyLine.objects.filter(pk=bought.pk).update(created_at=noon + timedelta(days=3))
    for minutes, unit in ((0, "ivan@pc1"), (30, "olga@pc2")):
        started = noon + timedelta(minutes=minutes)
        Session.objects.create(
            key=key,
            feature_id=1,
            license_type="USER",
            binding="floating",
            unit=unit,
            started_at=started,
            last_heartbeat_at=started,
            lease_expires_at=started,
            ended_at=started + timedelta(hours=2),
            end_reason="released",
        )
    statistics_rollup(now=noon + timedelta(days=5))
    return key


@pytest.mark.parametrize("page", PAGES)
def test_each_statistics_page_renders_a_chart_and_a_table(manager_client, history, page) -> None:
    response = manager_client.get(
        reverse(f"admin:{page}"), {"first": "2026-02-01", "last": "2026-02-28"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="statistics-table"' in content
    if page != "statistics_pivot":
        assert 'class="chart"' in content


def test_the_connections_page_shows_users_and_the_peak_of_the_day(manager_client, history) -> None:
    response = manager_client.get(
        reverse("admin:statistics_connections"),
        {"first": "2026-02-10", "last": "2026-02-10", "export": "csv"},
    )

    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1] == "2026-02-10,2,2,2"


def test_the_trial_conversions_count_a_purchase_within_the_days_asked(
    manager_client, history
) -> None:
    within_five = manager_client.get(
        reverse("admin:statistics_conversions"),
        {"first": "2026-02-01", "last": "2026-02-28", "within_days": 5, "export": "csv"},
    ).content.decode("utf-8-sig")
    within_two = manager_client.get(
        reverse("admin:statistics_conversions"),
        {"first": "2026-02-01", "last": "2026-02-28", "within_days": 2, "export": "csv"},
    ).content.decode("utf-8-sig")

    assert within_five.splitlines()[1] == "2026-02,Зарплата,1,1,100.0"
    assert within_two.splitlines()[1] == "2026-02,Зарплата,1,0,0.0"


def test_the_conversions_per_feature_name_the_feature_of_each_row(manager_client, history) -> None:
    export = manager_client.get(
        reverse("admin:statistics_conversions"),
        {"first": "2026-02-01", "last": "2026-02-28", "within_days": 5, "per_feature": "on"},
    )
    lines = manager_client.get(
        reverse("admin:statistics_conversions"),
        {
            "first": "2026-02-01",
            "last": "2026-02-28",
            "within_days": 5,
            "per_feature": "on",
            "export": "csv",
        },
    ).content.decode("utf-8-sig")

    assert export.status_code == 200
    assert lines.splitlines()[1] == "2026-02,Зарплата,Фича 1,1,1,100.0"


def test_the_refusals_page_counts_the_refused_captures_per_reason(manager_client, history) -> None:
    for index, (code, count) in enumerate(((2008, 3), (2011, 1), (2008, 2))):
        moment = day_start(DAY) + timedelta(hours=index)
        Problem.objects.create(
            key=history,
            key_number=history.number,
            feature_id=1,
            unit=f"u{index}",
            code=code,
            day=DAY,
            first_at=moment,
            last_at=moment,
            count=count,
        )
    days_rollup(first=DAY, last=DAY)

    lines = manager_client.get(
        reverse("admin:statistics_refusals"),
        {"first": "2026-02-01", "last": "2026-02-28", "export": "csv"},
    ).content.decode("utf-8-sig")

    assert [line.split(",")[0::2] for line in lines.splitlines()[1:]] == [
        ["2008", "5"],
        ["2011", "1"],
    ]


def test_the_most_used_coupon_batches_export_on_their_own(manager_client, history) -> None:
    batch = CouponBatch.objects.create(kind=CouponKind.NEW_PRODUCT, size=2)
    CouponLine.objects.create(batch=batch, product_id=10)
    coupon = Coupon.objects.create(code="TESTCPN-000001", batch=batch)
    Activation.objects.create(
        coupon=coupon,
        key=history,
        door=Door.API,
        actor_label="tests",
        activated_at=day_start(DAY) + timedelta(hours=9),
    )
    CouponBatch.objects.filter(pk=batch.pk).update(created_at=day_start(DAY))
    days_rollup(first=DAY, last=DAY)
    query = {"first": "2026-02-01", "last": "2026-02-28"}

    page = manager_client.get(reverse("admin:statistics_products"), query).content.decode()
    lines = manager_client.get(
        reverse("admin:statistics_products"), {**query, "table": "batches", "export": "csv"}
    ).content.decode("utf-8-sig")

    products = manager_client.get(
        reverse("admin:statistics_products"), {**query, "export": "csv"}
    ).content.decode("utf-8-sig")

    assert 'data-testid="export-batches-xlsx"' in page
    assert lines.splitlines()[1] == f"{batch},—,2,1"
    assert products.splitlines()[1].split(",")[::2] == ["Зарплата", "2"]
    assert products.splitlines()[1].endswith(",2,1")


def test_the_pages_need_the_right_to_view_statistics(client, history) -> None:
    from tests.factories import StaffUserFactory

    client.force_login(StaffUserFactory(username="nobody"))

    assert client.get(reverse("admin:statistics_trials")).status_code == 403


def test_bad_filters_are_shown_on_the_page_not_a_failure(manager_client, history) -> None:
    response = manager_client.get(
        reverse("admin:statistics_trials"), {"first": "2026-03-01", "last": "2026-02-01"}
    )

    assert response.status_code == 200
    assert (
        "The start is after the end" in response.content.decode()
        or "позже" in response.content.decode()
    )
