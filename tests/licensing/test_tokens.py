import pytest

from licentia.catalog.models import LicenseType
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import TokenConsumption
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_key():
    pack = make_product(103, (30, LicenseType.TOKEN, 100, True))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=pack, actor=ACTOR, multiplier=2)
    return key


def consume(call, key, amount, **fields):
    return call("tokens/consume", {"key": key.number, "feature_id": 30, "amount": amount, **fields})


def test_tokens_are_consumed_down_to_zero_and_never_below(call, token_key) -> None:
    first = consume(call, token_key, 150, comment="отчёт")
    last = consume(call, token_key, 50)
    over = consume(call, token_key, 1)

    assert (first.json()["balance"], last.json()["balance"]) == (50, 0)
    assert (over.status_code, over.json()["code"], over.json()["balance"]) == (409, 2063, 0)
    assert list(TokenConsumption.objects.values_list("amount", "comment")) == [
        (50, ""),
        (150, "отчёт"),
    ]


def test_a_repeated_idempotency_key_consumes_nothing_more(call, token_key) -> None:
    first = consume(call, token_key, 30, idempotency_key="invoice-1")
    again = consume(call, token_key, 30, idempotency_key="invoice-1")
    different = consume(call, token_key, 31, idempotency_key="invoice-1")

    assert first.json() == again.json() == {"balance": 170}
    assert TokenConsumption.objects.count() == 1
    assert (different.status_code, list(different.json()["errors"])) == (422, ["idempotency_key"])


def test_capturing_a_token_feature_and_consuming_a_seat_feature_are_refused(
    call, token_key, key
) -> None:
    capture = call("capture", {"key": token_key.number, "feature_id": 30, "user": "u", "host": "h"})
    seats = call("tokens/consume", {"key": key.number, "feature_id": 10, "amount": 1})

    assert capture.json()["code"] == 2061
    assert seats.json()["code"] == 2011
    license_summary = call("license", {"key": token_key.number}).json()["summary"]
    assert license_summary == [
        {
            "feature_id": 30,
            "feature_name": "Фича 30",
            "type": "TOKEN",
            "total": 200,
            "occupied": 0,
            "free": 200,
        }
    ]
