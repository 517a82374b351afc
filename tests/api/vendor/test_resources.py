from datetime import timedelta

import pytest
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.clients.models import Client
from licentia.core.models import AuditEvent
from licentia.coupons.models import CouponKind
from licentia.coupons.services import Row, coupon_batch_generate
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from tests.api.vendor.conftest import ACTOR
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db


def test_clients_are_created_found_by_crm_id_changed_and_deleted(api) -> None:
    created = api(
        "post",
        "clients",
        {"company": "ООО Вектор", "email": "Info@Vector.ru", "crm_id2": "a1b2-c3"},
        role="sales",
    )
    client_id = created.json()["id"]

    found = api("get", "clients", {"crm_id2": "a1b2-c3"}).json()
    searched = api("get", "clients", {"q": "вект"}).json()
    changed = api("patch", f"clients/{client_id}", {"contact": "Пётр"})
    deleted = api("delete", f"clients/{client_id}")

    assert created.status_code == 201
    assert created.json()["email"] == "info@vector.ru"
    assert created.json()["source"] == "api"
    assert [item["id"] for item in found["items"]] == [client_id]
    assert [item["company"] for item in searched["items"]] == ["ООО Вектор"]
    assert changed.json()["contact"] == "Пётр"
    assert deleted.status_code == 204
    assert not Client.objects.filter(pk=client_id).exists()
    actors = set(
        AuditEvent.objects.filter(action__startswith="client.").values_list("actor_kind", flat=True)
    )
    assert actors == {"api_key"}


def test_invalid_client_fields_are_422_with_the_field(api) -> None:
    answer = api("post", "clients", {"company": "", "email": "not-an-email"})

    assert answer.status_code == 422
    assert set(answer.json()["fields"]) == {"company", "email"}


def test_a_client_holding_a_key_with_products_is_not_deleted(api) -> None:
    product = make_product(3, (1, LicenseType.USER, 1, False))
    client = make_client()
    key = license_key_generate(client=client, actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)

    answer = api("delete", f"clients/{client.pk}")

    assert answer.status_code == 409
    assert answer.json()["code"] == 4090
    assert Client.objects.filter(pk=client.pk).exists()


def test_clients_page_by_a_stable_cursor(api) -> None:
    ids = [make_client(company=f"Фирма {n}").pk for n in range(5)]

    first = api("get", "clients", {"limit": 2}).json()
    second = api("get", "clients", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api("get", "clients", {"limit": 2, "cursor": second["next_cursor"]}).json()

    pages = [first, second, third]
    assert [item["id"] for page in pages for item in page["items"]] == ids
    assert third["next_cursor"] is None


def test_duplicates_are_merged_into_a_client(api) -> None:
    main = make_client(company="ООО Ромашка")
    other = make_client(company="Ромашка ООО", crm_id1="7707083893")

    answer = api("post", f"clients/{main.pk}/merge", {"others": [other.pk], "fill": ["crm_id1"]})

    assert answer.status_code == 200, answer.content
    assert answer.json()["crm_id1"] == "7707083893"
    assert not Client.objects.filter(pk=other.pk).exists()


def test_a_key_is_generated_filled_changed_ended_and_blocked(api) -> None:
    make_product(3, (1, LicenseType.USER, 2, True))
    client = make_client()

    key = api("post", f"clients/{client.pk}/keys").json()
    line = api("post", f"keys/{key['number']}/lines", {"product_id": 3, "multiplier": 2}).json()
    card = api("get", f"keys/{key['number']}").json()
    expiry = (timezone.now() + timedelta(days=30)).isoformat()
    changed = api(
        "patch",
        f"keys/{key['number']}/lines/{line['id']}",
        {"multiplier": 3, "expires_at": expiry},
    ).json()
    ended = api("post", f"keys/{key['number']}/lines/{changed['lines'][0]['id']}/end").json()
    blocked = api("post", f"keys/{key['number']}/block", {"blocked": True}).json()

    assert card["seats"] == [
        {
            "feature_id": 1,
            "feature_name": "Фича 1",
            "type": "USER",
            "total": 4,
            "occupied": 0,
            "free": 4,
        }
    ]
    assert changed["seats"][0]["total"] == 6
    assert ended["state"] == "ended_manager"
    assert blocked["blocked"] is True


def test_an_unknown_or_malformed_key_is_refused(api) -> None:
    assert api("get", "keys/DEMO-AAAA-AAAA-AAAA-AAAA").status_code in (404, 422)
    assert api("get", "keys/x").status_code == 422


def test_live_sessions_are_listed_and_reset(api) -> None:
    product = make_product(3, (1, LicenseType.USER, 2, False))
    client = make_client()
    key = license_key_generate(client=client, actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    session_capture(
        key_number=key.number,
        feature_id=1,
        unit=Unit(user="buh", host="pc", database="base"),
        fingerprint={},
    )

    by_key = api("get", f"keys/{key.number}/sessions", role="support").json()
    by_client = api("get", f"clients/{client.pk}/sessions").json()
    reset = api("post", f"sessions/{by_key[0]['id']}/reset", role="support").json()

    assert [session["user"] for session in by_key] == ["buh"]
    assert by_client == by_key
    assert reset["end_reason"] == "reset_vendor"
    assert api("get", f"keys/{key.number}/sessions").json() == []


def test_coupons_are_searched_activated_deactivated_and_blocked(api) -> None:
    product = make_product(3, (1, LicenseType.USER, 1, False))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT,
        rows=[Row(product=product)],
        actor=ACTOR,
        count=2,
        invoice_number="СЧ-1",
    )
    code = batch.coupons.order_by("id").first().code

    listed = api("get", "coupons", {"invoice": "СЧ-1"}).json()
    activated = api("post", "coupons/activate", {"key": key.number, "code": code}, role="support")
    used = api("get", "coupons", {"state": "activated"}).json()
    undone = api("post", f"coupons/{code}/deactivate", {})
    blocked = api("post", f"coupons/{code}/block", {"blocked": True}).json()

    assert len(listed["items"]) == 2
    assert activated.status_code == 200, activated.content
    assert activated.json()["key"] == key.number
    assert [item["code"] for item in used["items"]] == [code]
    assert undone.json()["deactivated_at"] is not None
    assert blocked["state"] == "blocked"


def test_a_refused_activation_keeps_the_protocol_code(api) -> None:
    key = license_key_generate(client=make_client(), actor=ACTOR)

    answer = api("post", "coupons/activate", {"key": key.number, "code": "DEMO-NOPE-NOPE"})

    assert answer.status_code == 404
    assert answer.json()["code"] == 2040


def test_audit_events_come_after_a_cursor(api) -> None:
    api("get", "me", role="readonly")
    start = str(AuditEvent.objects.order_by("id").last().pk)
    make_client(company="А")
    make_client(company="Б")

    first = api("get", "audit", {"limit": 1, "cursor": start}, role="readonly").json()
    rest = api("get", "audit", {"cursor": first["next_cursor"]}, role="readonly").json()
    again = api("get", "audit", {"cursor": rest["next_cursor"]}, role="readonly").json()

    assert first["more"] is True
    assert [event["object_repr"] for event in first["items"] + rest["items"]] == ["А", "Б"]
    assert again["items"] == []
    assert again["next_cursor"] == rest["next_cursor"]
