"""Behind a reverse proxy every connection comes from the proxy: the client is the hop the
trusted proxies name in X-Forwarded-For, and only they are believed."""

import pytest
from django.test import RequestFactory

from licentia.catalog.models import LicenseType
from licentia.core.models import AuditEvent
from licentia.core.network import client_ip
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def ip_of(remote: str, forwarded: str | None = None) -> str | None:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers))


@pytest.fixture
def proxied(settings) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.0/8", "::1", "10.0.0.0/8"]


def test_a_trusted_proxy_names_the_client_as_the_rightmost_untrusted_hop(proxied) -> None:
    assert ip_of("127.0.0.1", "203.0.113.7") == "203.0.113.7"
    # The caller wrote 1.1.1.1 itself; the proxies appended what they saw.
    assert ip_of("127.0.0.1", "1.1.1.1, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
    assert ip_of("::1", "[2001:db8::5]:443") == "2001:db8::5"
    assert ip_of("127.0.0.1", "10.0.0.9, 10.0.0.8") == "10.0.0.9"
    assert ip_of("127.0.0.1", "garbage, 10.0.0.8") == "10.0.0.8"
    assert ip_of("127.0.0.1") == "127.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_claims(proxied) -> None:
    assert ip_of("198.51.100.4", "203.0.113.7") == "198.51.100.4"


def test_without_a_proxy_the_header_is_never_believed(settings) -> None:
    settings.TRUSTED_PROXIES = []

    assert ip_of("127.0.0.1", "203.0.113.7") == "127.0.0.1"


def trial_from(client, address: str, number: int):
    return client.post(
        "/api/app/v1/trial",
        data={
            "product_id": 100,
            "company": f"ООО «Ромашка {number}»",
            "email": f"buh{number}@romashka.ru",
            "user": "Иванов",
            "host": f"buh-{number}",
            "fingerprint": {"machine_id": f"m-{number}"},
        },
        content_type="application/json",
        headers={"X-Forwarded-For": address},
    )


def test_behind_the_proxy_each_client_has_its_own_trial_limit_and_audit_ip(client, proxied) -> None:
    make_product(100, (10, LicenseType.USER, 1, False), trial_days=14)

    statuses = [trial_from(client, f"203.0.113.{n}", n).status_code for n in range(1, 26)]

    assert statuses == [201] * 25
    audited = set(AuditEvent.objects.exclude(ip=None).values_list("ip", flat=True))
    assert {f"203.0.113.{n}" for n in range(1, 26)} <= audited
    assert "127.0.0.1" not in audited


def test_not_behind_a_proxy_a_forged_header_does_not_escape_the_limit(client, settings) -> None:
    settings.TRUSTED_PROXIES = []
    settings.LICENTIA_TRIAL_RATE_LIMIT = 3
    make_product(100, (10, LicenseType.USER, 1, False), trial_days=14)

    statuses = [trial_from(client, f"203.0.113.{n}", n).status_code for n in range(1, 6)]

    assert statuses == [201, 201, 201, 429, 429]
