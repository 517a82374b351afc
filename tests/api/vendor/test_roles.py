"""Every call of the vendor API × every role: a key's role may do exactly what the same role
may do in the cabinet."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from licentia.api.vendor_v1 import vendor_api
from licentia.catalog.models import LicenseType
from licentia.coupons.models import CouponKind, Door
from licentia.coupons.services import Row, coupon_activate, coupon_batch_generate
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from tests.api.vendor.conftest import ACTOR
from tests.factories import make_client, make_product
from tests.releases.conftest import make_distribution, publish

pytestmark = pytest.mark.django_db

ALL = {"full", "readonly", "support", "sales"}
SALES = {"full", "sales"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any
    roles: set[str]


CALLS = {
    "me": Call("get", "me", None, ALL),
    "generate": Call(
        "post",
        "coupons/generate",
        {"coupontype": "NewProduct", "couponscount": "1", "products": [{"guid": "3"}]},
        SALES,
    ),
    "trials": Call("post", "trials/new", {"lastresultid": "0"}, ALL),
    "expiring": Call(
        "post",
        "subscriptions/expiring",
        {"DATE_FROM": "2026-01-01", "DATE_TO": "2026-12-31", "TRIALS": "true"},
        ALL,
    ),
    "map": Call("post", "map", {"features": [1]}, ALL),
    "clients": Call("get", "clients", None, ALL),
    "client": Call("get", "clients/{client}", None, ALL),
    "client create": Call("post", "clients", {"company": "ООО Новая"}, SALES),
    "client change": Call("patch", "clients/{client}", {"contact": "Анна"}, SALES),
    "client delete": Call("delete", "clients/{empty_client}", None, SALES),
    "client merge": Call("post", "clients/{client}/merge", {"others": ["{empty_client}"]}, SALES),
    "key": Call("get", "keys/{key}", None, ALL),
    "key generate": Call("post", "clients/{client}/keys", None, SALES),
    "key block": Call("post", "keys/{key}/block", {"blocked": True}, SALES),
    "line add": Call("post", "keys/{key}/lines", {"product_id": 3}, SALES),
    "line change": Call(
        "patch", "keys/{key}/lines/{line}", {"multiplier": 1, "expires_at": None}, SALES
    ),
    "line end": Call("post", "keys/{key}/lines/{line}/end", None, SALES),
    "key sessions": Call("get", "keys/{key}/sessions", None, ALL),
    "client sessions": Call("get", "clients/{client}/sessions", None, ALL),
    "session reset": Call("post", "sessions/{session}/reset", None, {"full", "support"}),
    "coupons": Call("get", "coupons", None, ALL),
    "coupon activate": Call(
        "post",
        "coupons/activate",
        {"key": "{key}", "code": "{free_code}"},
        {"full", "support", "sales"},
    ),
    "coupon deactivate": Call("post", "coupons/{used_code}/deactivate", {}, SALES),
    "coupon block": Call("post", "coupons/{free_code}/block", {"blocked": True}, SALES),
    "audit": Call("get", "audit", None, {"full", "readonly"}),
    "release publish": Call(
        "post",
        "releases",
        {
            "distribution_id": "{distribution}",
            "version": "2.0.1",
            "released_on": "2026-03-01",
            "files": [{"name": "setup.zip", "url": "https://files.example.ru/setup.zip"}],
        },
        {"full"},
    ),
    "releases": Call("get", "releases", None, {"full"}),
    "release delete": Call("delete", "releases/{release}", None, {"full"}),
}


@pytest.fixture
def world() -> dict[str, Any]:
    product = make_product(3, (1, LicenseType.USER, 5, True))
    client = make_client(company="ООО Ромашка")
    empty_client = make_client(company="ООО Ромашка дубль")
    key = license_key_generate(client=client, actor=ACTOR)
    line = key_line_add(key=key, product=product, actor=ACTOR)
    session = session_capture(
        key_number=key.number,
        feature_id=1,
        unit=Unit(user="buh", host="pc", database="base"),
        fingerprint={},
    )
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=product)], actor=ACTOR, count=2
    )
    free_code, used_code = batch.coupons.order_by("id").values_list("code", flat=True)
    coupon_activate(key_number=key.number, code=used_code, door=Door.CABINET, actor=ACTOR)
    distribution = make_distribution()
    release = publish(distribution, "2.0.0", date(2026, 2, 1))
    return {
        "distribution": distribution.pk,
        "release": release.pk,
        "client": client.pk,
        "empty_client": empty_client.pk,
        "key": key.number,
        "line": line.pk,
        "session": session.session.public_id,
        "free_code": free_code,
        "used_code": used_code,
    }


def _filled(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        filled = value.format(**world)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [_filled(item, world) for item in value]
    if isinstance(value, dict):
        return {name: _filled(item, world) for name, item in value.items()}
    return value


def test_the_table_names_every_operation_of_the_api() -> None:
    paths = vendor_api.get_openapi_schema()["paths"]
    operations = sum(
        len([method for method in methods if method != "parameters"]) for methods in paths.values()
    )
    assert operations == len(CALLS)


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("name", list(CALLS))
def test_each_role_may_call_exactly_what_it_may_do_in_the_cabinet(
    api, world, name: str, role: str
) -> None:
    call = CALLS[name]

    answer = api(call.method, _filled(call.path, world), _filled(call.body, world), role=role)

    if role in call.roles:
        assert answer.status_code < 300, (answer.status_code, answer.content)
    else:
        assert answer.status_code == 403, (answer.status_code, answer.content)
        assert answer.json()["code"] == 4030
