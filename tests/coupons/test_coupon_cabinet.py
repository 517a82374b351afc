"""The coupons in the cabinet: generator, batch page and CSV, activation, the key card's tab and
deactivation, a line changed by hand, the list's search and filters, blocking, roles."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from licentia.core.roles import READ_ONLY, SALES, SUPPORT
from licentia.coupons.models import Activation, Coupon, CouponBatch, CouponKind, Door
from licentia.coupons.services import Row
from licentia.keys.models import LineState
from licentia.keys.services import key_set_blocked
from tests.coupons.conftest import ACTOR, activate, make_coupons
from tests.factories import DistributorFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def rows(*products: dict[str, str], prefix: str = "form", initial: int = 0) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(len(products), 3)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, product in enumerate(products):
        for name, value in product.items():
            data[f"{prefix}-{index}-{name}"] = value
    return data


def signed_in(client, role: str):
    user = StaffUserFactory(username=f"user-{role}")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def test_the_generator_makes_a_batch_shown_with_its_codes_and_as_csv(
    manager_client, catalog
) -> None:
    distributor = DistributorFactory(name="Партнёр Север")

    response = manager_client.post(
        "/coupons/coupon/generate/",
        {
            "kind": CouponKind.NEW_PRODUCT,
            "distributor": str(distributor.pk),
            "invoice_number": "СЧ-501",
            "invoice_date": "2026-11-01",
            "count": "3",
            **rows({"product": "2", "multiplier": "2", "term": "days", "days": "365"}),
        },
    )

    batch = CouponBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/coupons/coupon/batch/{batch.pk}/"
    assert batch.distributor == distributor
    line = batch.lines.get()
    assert (line.product_id, line.multiplier, line.days) == (2, 2, 365)
    codes = list(batch.coupons.order_by("id").values_list("code", flat=True))
    page = manager_client.get(response["Location"]).content.decode()
    assert all(code in page for code in codes)
    csv = manager_client.get(f"/coupons/coupon/batch/{batch.pk}/csv/")
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert text.splitlines()[1] == f"{codes[0]};Добавить продукт;Партнёр Север;СЧ-501"


def test_the_generator_shows_the_services_refusal_on_the_form(manager_client, catalog) -> None:
    response = manager_client.post(
        "/coupons/coupon/generate/",
        {
            "kind": CouponKind.NEW_PRODUCT,
            "count": "1",
            **rows({"product": "1", "multiplier": "4", "term": "perpetual"}),
        },
    )

    assert response.status_code == 200
    assert "допускающей множитель" in response.content.decode()
    assert not CouponBatch.objects.exists()


def test_a_coupon_activated_from_the_cabinet_shows_on_the_key_card_and_is_undone(
    manager_client, catalog, key
) -> None:
    coupon = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0]

    response = manager_client.post(
        "/coupons/coupon/activate/",
        {"key": key.number.lower(), "coupon": coupon.code.replace("-", "")},
    )

    assert response["Location"] == f"/keys/licensekey/{key.pk}/change/"
    activation = Activation.objects.get()
    assert activation.door == Door.CABINET
    assert activation.actor_label == "manager"
    card = manager_client.get(response["Location"]).content.decode()
    assert coupon.code in card
    assert "Продукт 1 триал завершена покупкой" in card
    assert "— → Продукт 2 бессрочно" in card

    manager_client.post(f"/coupons/coupon/activation/{activation.pk}/deactivate/")

    assert key.lines.get(product=catalog["pro"]).state == LineState.REMOVED_BY_COUPON
    assert key.lines.get(product=catalog["base"]).state == LineState.ACTIVE


def test_an_activation_refused_shows_its_code(manager_client, key) -> None:
    response = manager_client.post(
        "/coupons/coupon/activate/",
        {"key": key.number, "coupon": "DEMOUPD-00000-00000-00000-00001"},
    )

    assert response.status_code == 200
    assert "2040" in response.content.decode()


def test_a_refused_deactivation_names_the_lines_and_changes_nothing(
    manager_client, catalog, key
) -> None:
    activation = activate(key, make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]))[0])
    line = key.lines.get(product=catalog["pro"], state=LineState.ACTIVE)
    manager_client.post(
        f"/coupons/coupon/key/{key.pk}/line/",
        {"line": str(line.pk), "multiplier": "2", "expires_at": ""},
    )

    response = manager_client.post(
        f"/coupons/coupon/activation/{activation.pk}/deactivate/", follow=True
    )

    assert "Продукт 2" in response.content.decode()
    assert "ручная правка" in response.content.decode()
    line.refresh_from_db()
    assert line.multiplier == 2
    assert line.state == LineState.ACTIVE


def test_an_upgrade_from_the_key_card_applied_at_once(manager_client, catalog, key) -> None:
    trial = key.lines.get()
    page = manager_client.get(f"/coupons/coupon/generate/?key={key.pk}").content.decode()
    assert f"#{trial.pk} Продукт 1" in page
    day = (timezone.localdate() + timedelta(days=60)).isoformat()

    response = manager_client.post(
        f"/coupons/coupon/generate/?key={key.pk}",
        {
            "activate_now": "on",
            **rows(
                {
                    "product": "1",
                    "multiplier": "1",
                    "term": "perpetual",
                    "key_line": str(trial.pk),
                    "DELETE": "on",
                },
                {"product": "2", "multiplier": "3", "term": "fixed", "expires_on": day},
                initial=1,
            ),
        },
    )

    assert response["Location"] == f"/keys/licensekey/{key.pk}/change/"
    trial.refresh_from_db()
    assert trial.state == LineState.ENDED_BY_UPGRADE
    new = key.lines.get(product=catalog["pro"])
    assert new.multiplier == 3
    assert timezone.localdate(new.expires_at).isoformat() == day
    assert Activation.objects.get().coupon.batch.target_key == key


def test_the_list_finds_a_code_in_any_formatting_and_filters_by_client(
    manager_client, catalog, key
) -> None:
    first, second = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]), count=2)
    activate(key, first)
    typed = first.code.lower().replace("-", " ")

    found = manager_client.get("/coupons/coupon/", {"q": typed}).content.decode()
    of_client = manager_client.get("/coupons/coupon/", {"client": key.client_id}).content.decode()
    free = manager_client.get("/coupons/coupon/", {"state": "free"}).content.decode()

    assert first.code in found
    assert second.code not in found
    assert first.code in of_client
    assert second.code not in of_client
    assert key.client.company in of_client
    assert second.code in free
    assert first.code not in free


def test_coupons_are_blocked_and_unblocked_in_bulk(manager_client, catalog) -> None:
    coupons = make_coupons(CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]), count=3)

    manager_client.post(
        "/coupons/coupon/",
        {"action": "block_selected", "_selected_action": [str(c.pk) for c in coupons[:2]]},
    )

    assert list(Coupon.objects.order_by("id").values_list("blocked", flat=True)) == [
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("role", "generate", "activate_", "deactivate", "see"),
    [
        (SALES, 200, 200, 404, 200),
        (SUPPORT, 403, 200, 403, 200),
        (READ_ONLY, 403, 403, 403, 200),
    ],
)
def test_roles_decide_who_generates_activates_deactivates_and_sees(
    client, role, generate, activate_, deactivate, see
) -> None:
    signed_in(client, role)

    assert client.get("/coupons/coupon/generate/").status_code == generate
    assert client.get("/coupons/coupon/activate/").status_code == activate_
    assert client.get("/coupons/coupon/activation/999/deactivate/").status_code == deactivate
    assert client.get("/coupons/coupon/").status_code == see


def test_a_coupons_page_reads_its_batch_and_activations(manager_client, catalog, key) -> None:
    coupon = make_coupons(
        CouponKind.NEW_PRODUCT, Row(product=catalog["pro"]), invoice_number="СЧ-9"
    )[0]
    activate(key, coupon)

    page = manager_client.get(f"/coupons/coupon/{coupon.pk}/change/").content.decode()

    assert coupon.code in page
    assert "СЧ-9" in page
    assert key.number in page
    assert "— → Продукт 2 бессрочно" in page
    assert 'name="_save"' not in page


def test_an_upgrade_applied_at_once_and_refused_leaves_no_coupon(
    manager_client, catalog, key
) -> None:
    trial = key.lines.get()
    key_set_blocked(key=key, blocked=True, actor=ACTOR)

    response = manager_client.post(
        f"/coupons/coupon/generate/?key={key.pk}",
        {
            "activate_now": "on",
            **rows(
                {"product": "1", "multiplier": "1", "term": "perpetual", "key_line": str(trial.pk)},
                initial=1,
            ),
        },
    )

    assert response.status_code == 200
    assert "заблокирован" in response.content.decode()
    assert not Coupon.objects.exists()
    assert not Activation.objects.exists()
