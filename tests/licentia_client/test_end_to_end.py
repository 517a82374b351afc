"""The reference client against a live server, as a protected application uses it."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from licentia.catalog.models import LicenseType
from licentia.keys.services import key_line_add, key_set_blocked, license_key_generate
from licentia.licensing.models import Problem, Session, TokenConsumption
from licentia.licensing.services.sessions import session_reset
from licentia_client import CertificateError, LicentiaClient, LicentiaError, verify_certificate
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR, FINGERPRINT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(live_server) -> LicentiaClient:
    plain = LicentiaClient(live_server.url)
    return LicentiaClient(live_server.url, public_key=plain.fetch_public_key(), language="en")


@pytest.fixture
def catalog() -> None:
    make_product(
        100, (10, LicenseType.USER, 2, False), (20, LicenseType.HOST, 1, False), trial_days=14
    )


def register(app: LicentiaClient) -> str:
    answer = app.trial(
        product_id=100,
        company="ООО Ромашка",
        email="buh@romashka.ru",
        user="Иванов",
        host="buh-01",
        fingerprint=FINGERPRINT,
    )
    return str(answer["key"])


def test_trial_capture_heartbeat_release(app, catalog) -> None:
    key = register(app)

    with app.capture(key, 10, user="Иванов", host="buh-01", fingerprint=FINGERPRINT) as seat:
        assert seat.answer["type"] == "USER"
        beat = app.heartbeat(seat.session_id)
        assert beat["session_id"] == seat.session_id
        assert app.license(key)["summary"][0]["occupied"] == 1

    assert app.license(key)["summary"][0]["occupied"] == 0
    assert Session.objects.get().end_reason == "released"


def test_a_bound_host_seat_survives_release_and_a_second_host_is_refused(app, catalog) -> None:
    key = register(app)
    with app.capture(key, 20, host="srv-1"):
        pass

    with pytest.raises(LicentiaError) as refused:
        app.capture_once(key, 20, host="srv-2")

    assert refused.value.code == 2008
    assert refused.value.message == "No free license for this feature: all seats are taken."
    assert Problem.objects.get().unit == "srv-2"
    session_reset(session=Session.objects.get(), actor=ACTOR)
    assert app.capture_once(key, 20, host="srv-2")["type"] == "HOST"


def test_a_blocked_key_is_refused_and_a_held_seat_learns_it(app, catalog) -> None:
    key = register(app)
    with app.capture(key, 10, user="u", host="h") as seat:
        key_set_blocked(key=Session.objects.get().key, blocked=True, actor=ACTOR)
        with pytest.raises(LicentiaError) as beat:
            app.heartbeat(seat.session_id)
        with pytest.raises(LicentiaError) as capture:
            app.capture_once(key, 10, user="u", host="h")

    assert beat.value.code == 2062
    assert capture.value.code == 2060


def test_the_certificate_verifies_offline_and_fails_when_tampered_or_expired(app, catalog) -> None:
    key = register(app)
    certificate = app.license(key, fingerprint=FINGERPRINT)["certificate"]

    payload = verify_certificate(certificate, app.public_key or "", fingerprint=FINGERPRINT)
    body, signature = certificate.split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged["features"][0]["total"] = 1000
    forged_body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    after_grace = datetime.now(UTC) + timedelta(days=8)

    assert payload["key"] == key
    with pytest.raises(CertificateError, match="altered"):
        verify_certificate(f"{forged_body}.{signature}", app.public_key or "")
    with pytest.raises(CertificateError, match="expired"):
        verify_certificate(certificate, app.public_key or "", now=after_grace)
    with pytest.raises(CertificateError, match="another machine"):
        verify_certificate(certificate, app.public_key or "", fingerprint={"machine_id": "x"})


def test_tokens_never_go_below_zero_under_32_concurrent_consumers(app) -> None:
    pack = make_product(103, (30, LicenseType.TOKEN, 100, False))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=pack, actor=ACTOR)

    def consume(number: int) -> int | str:
        try:
            return app.consume_tokens(key.number, 30, 7, idempotency_key=f"call-{number}")
        except LicentiaError as error:
            return str(error.code)

    with ThreadPoolExecutor(max_workers=32) as pool:
        balances = list(pool.map(consume, range(32)))
    connection.close()

    granted = [balance for balance in balances if isinstance(balance, int)]
    assert len(granted) == 14  # 14 × 7 = 98 of 100
    assert balances.count("2063") == 32 - 14
    assert sorted(granted) == list(range(2, 100, 7))
    assert sum(TokenConsumption.objects.values_list("amount", flat=True)) == 98


def test_the_application_sends_its_metrics_of_a_day(app, catalog) -> None:
    from licentia.statistics.models import MetricObservation

    key = register(app)

    with app.capture(key, 10, user="Иванов", host="buh-01", fingerprint=FINGERPRINT) as seat:
        answer = app.metrics(
            key,
            [
                {"name": "platform_version", "value": "8.3.25.1257"},
                {"name": "configuration", "value": "УТ 11.5"},
                {"name": "function", "value": "Загрузка банковской выписки", "count": 7},
                {"name": "window_size", "value": 1920, "at": datetime.now(UTC)},
            ],
            session_id=seat.session_id,
        )

    assert answer == {"accepted": 3, "ignored": 1}
    stored = MetricObservation.objects.get(name="function")
    assert (stored.value, stored.count, stored.feature_id) == ("Загрузка банковской выписки", 7, 10)
