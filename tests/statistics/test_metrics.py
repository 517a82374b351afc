"""POST /api/app/v1/metrics: observations of a key stored in one statement, rolled up by day."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.services import license_key_generate
from licentia.licensing.models import Session
from licentia.statistics import selectors
from licentia.statistics.models import IgnoredMetric, MetricDay, MetricObservation
from licentia.statistics.services import day_start, statistics_rollup
from tests.factories import make_client, make_product

URL = "/api/app/v1/metrics"


@pytest.fixture
def key(db: None) -> LicenseKey:
    make_product(10, (1, LicenseType.USER, 5, False))
    key = license_key_generate(client=make_client(), actor=Actor.system("tests"))
    KeyLine.objects.create(key=key, product_id=10, starts_at=timezone.now())
    return key


def _send(client, body: dict) -> tuple[int, dict]:
    response = client.post(URL, body, content_type="application/json")
    return response.status_code, response.json()


def test_a_batch_is_stored_in_one_insert_and_unknown_names_are_counted(client, key) -> None:
    metrics = [{"name": "function", "value": "Загрузка банковской выписки", "count": 3}] * 999
    metrics.append({"name": "screen_size", "value": 1920})

    with CaptureQueriesContext(connection) as queries:
        status, body = _send(client, {"key": key.number, "metrics": metrics})

    assert status == 200
    assert body == {"accepted": 999, "ignored": 1}
    inserts = [q for q in queries.captured_queries if "statistics_metricobservation" in q["sql"]]
    assert len(inserts) == 1
    assert MetricObservation.objects.count() == 999
    assert IgnoredMetric.objects.get().count == 1


def test_the_key_refusals_are_those_of_the_protocol(client, key) -> None:
    assert _send(client, {"key": "DEMO-ZZZZZ", "metrics": []})[1]["code"] == 2026
    LicenseKey.objects.filter(pk=key.pk).update(blocked=True)
    assert _send(client, {"key": key.number, "metrics": []})[1]["code"] == 2060


def test_more_than_a_thousand_observations_are_an_invalid_request(client, key) -> None:
    status, body = _send(
        client, {"key": key.number, "metrics": [{"name": "function", "value": "x"}] * 1001}
    )

    assert status == 422
    assert body["code"] == 4220


def test_a_session_gives_the_observations_its_feature(client, key) -> None:
    moment = timezone.now()
    session = Session.objects.create(
        key=key,
        feature_id=1,
        license_type="USER",
        binding="floating",
        unit="u",
        started_at=moment,
        last_heartbeat_at=moment,
        lease_expires_at=moment,
    )

    _send(
        client,
        {
            "key": key.number,
            "session": str(session.public_id),
            "metrics": [{"name": "function", "value": "Печать"}],
        },
    )

    assert MetricObservation.objects.get().feature_id == 1


def test_the_pivot_shows_configurations_by_month_for_one_product(client, key) -> None:
    base = day_start(timezone.localdate().replace(day=1) - timedelta(days=40)) + timedelta(hours=12)
    other = LicenseKey.objects.create(number="DEMO-EEEEE", client=make_client(company="Другая"))
    for number, configuration in ((key.number, "УТ 11.5"), ("DEMO-EEEEE", "БП 3.0")):
        observations = [
            {"name": "configuration", "value": configuration, "at": base.isoformat()},
            {"name": "function", "value": "Печать", "count": 2, "at": base.isoformat()},
        ]
        if number == "DEMO-EEEEE":
            MetricObservation.objects.create(
                key=other, name="configuration", value=configuration, at=base, received_at=base
            )
        else:
            _send(client, {"key": number, "metrics": observations})
    MetricObservation.objects.update(received_at=base)
    statistics_rollup(now=timezone.now())

    assert MetricDay.objects.filter(name="function").get().configuration == "УТ 11.5"
    result = selectors.pivot(
        row="configuration",
        column="month",
        measure="keys",
        filters={"product": "10"},
        first=base.date() - timedelta(days=1),
        last=base.date(),
    )
    assert [(label, values) for label, values, _total in result.rows] == [("УТ 11.5", [1])]
    assert result.columns == [base.strftime("%Y-%m")]
    unfiltered = selectors.pivot(
        row="configuration",
        column="month",
        measure="keys",
        filters={},
        first=base.date() - timedelta(days=1),
        last=base.date(),
    )
    assert unfiltered.total == 2


def test_the_accepted_names_are_set_in_the_cabinet(manager_client, key) -> None:
    from licentia.statistics.services import metric_settings_get

    url = reverse("admin:statistics_metricsettings_change", args=[metric_settings_get().pk])
    response = manager_client.post(url, {"accepted_names": "function\nfunction\nrelease"})

    assert response.status_code == 302
    assert metric_settings_get().names() == {"function", "release"}
