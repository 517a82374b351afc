"""POST /api/app/v1/coupon: the application's door to activation."""

import pytest

from licentia.core.selectors import vendor_settings_get
from licentia.coupons.models import Activation, CouponKind, Door
from licentia.coupons.services import Row
from licentia_client import verify_certificate
from tests.coupons.conftest import make_coupons

pytestmark = pytest.mark.django_db


def test_the_application_activates_a_coupon_and_gets_the_license(call, catalog, key) -> None:
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"], multiplier=2))[0]
    typed = coupon.code.lower().replace("-", " ")

    response = call(
        "coupon", {"key": key.number, "coupon": typed, "language": "en", "nonce": "n-1"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["coupon"] == coupon.code
    assert body["coupon_kind"] == "new_product"
    states = {product["id"]: product["state"] for product in body["products"]}
    assert states == {1: "ended_purchase", 2: "active"}
    payload = verify_certificate(
        body["certificate"], vendor_settings_get().signing_public_key, nonce="n-1"
    )
    assert {feature["id"]: feature["total"] for feature in payload["features"]} == {10: 4, 20: 1}
    activation = Activation.objects.get()
    assert activation.door == Door.APPLICATION
    assert activation.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("coupon", "code", "status"),
    [
        ("DEMOUPD-00000-00000-00000-00001", 2040, 404),
        ("", 4220, 422),
    ],
)
def test_a_refusal_is_json_with_its_code(call, key, coupon, code, status) -> None:
    response = call("coupon", {"key": key.number, "coupon": coupon, "language": "en"})

    assert response.status_code == status
    assert response.json()["code"] == code


def test_a_second_activation_is_refused_with_2041_in_russian(call, catalog, key) -> None:
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0]
    call("coupon", {"key": key.number, "coupon": coupon.code})

    response = call("coupon", {"key": key.number, "coupon": coupon.code, "language": "ru"})

    assert response.status_code == 409
    assert response.json()["code"] == 2041
    assert "уже активирован" in response.json()["message"]


def test_the_coupon_door_is_in_the_served_openapi(client) -> None:
    paths = client.get("/api/app/v1/openapi.json").json()["paths"]

    assert "/api/app/v1/coupon" in paths
