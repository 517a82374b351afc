"""The calls 1C vendors already make, with the bodies their documentation shows, verbatim."""

import json
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.core.models import AuditEvent
from licentia.coupons.models import Coupon, CouponKind
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.services.sessions import session_capture, session_reset
from licentia.licensing.services.trials import trial_register
from licentia.licensing.units import Unit
from tests.api.vendor.conftest import ACTOR
from tests.factories import DistributorFactory, StaffUserFactory, make_client, make_product

pytestmark = pytest.mark.django_db

TRIAL_FIELDS = {
    "result_id",
    "licensekey",
    "product",
    "dateactivated",
    "email",
    "contact",
    "shortname",
    "phone",
    "description",
    "inn",
}
EXPIRING_FIELDS = {
    "licensekey",
    "companyname",
    "contact",
    "email",
    "crmRef1",
    "crmRef2",
    "product",
    "product_en",
    "expired",
    "distributor",
    "responsible",
}


@pytest.fixture
def product():
    return make_product(
        7,
        (1, LicenseType.USER, 1, True),
        crm_guid="b7e1c3a0-1111-4222-8333-944445555666",
        name_en="Accounting add-on",
        trial_days=30,
    )


def test_generate_takes_the_documented_body_and_answers_the_codes(api, product) -> None:
    distributor = DistributorFactory()
    body = (
        '{"coupontype": "NewProduct", "couponscount": "2", "usemanytimes": "0", '
        f'"distributorguid": "{distributor.guid}", "crminvoice": "СЧ-000123", '
        '"crminvoicedate": "2026-05-14T00:00:00", "description": "Оплата по счёту", '
        '"products": [{"guid": "b7e1c3a0-1111-4222-8333-944445555666", "multiplier": "3", '
        '"fixedexpire": "", "extenddays": "365"}]}'
    )

    answer = api("post", "coupons/generate", body, role="sales")

    assert answer.status_code == 200, answer.content
    codes = answer.json()
    assert len(codes) == 2
    assert all(isinstance(code, str) and code.startswith("DEMO") for code in codes)
    batch = Coupon.objects.get(code=codes[0]).batch
    assert batch.kind == CouponKind.NEW_PRODUCT
    assert batch.distributor == distributor
    assert batch.invoice_number == "СЧ-000123"
    assert str(batch.invoice_date) == "2026-05-14"
    line = batch.lines.get()
    assert (line.multiplier, line.term, line.days) == (3, "days", 365)
    event = AuditEvent.objects.get(action="coupon_batch.generate")
    assert event.actor_kind == "api_key"


def test_generate_takes_numbers_where_strings_are_documented_and_the_numeric_id(
    api, product
) -> None:
    body = {
        "coupontype": "TrialExtend",
        "couponscount": 1,
        "usemanytimes": 1,
        "products": [{"guid": "7", "multiplier": 1, "extenddays": 14}],
    }

    answer = api("post", "coupons/generate", body)

    assert answer.status_code == 200, answer.content
    batch = Coupon.objects.get(code=answer.json()[0]).batch
    assert batch.reusable is True
    assert batch.lines.get().days == 14


def test_generate_with_a_fixed_expiry_gives_lines_until_that_day(api, product) -> None:
    body = {
        "coupontype": "NewProduct",
        "couponscount": "1",
        "products": [{"guid": "7", "multiplier": "1", "fixedexpire": "2099-12-31"}],
    }

    answer = api("post", "coupons/generate", body)

    line = Coupon.objects.get(code=answer.json()[0]).batch.lines.get()
    assert timezone.localtime(line.expires_at).date().isoformat() == "2099-12-31"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"coupontype": "NewProduct", "couponscount": "0"}, 400, "Count must be bigger than 0"),
        (
            {"coupontype": "NewProduct", "couponscount": "1", "distributorguid": "nonsense"},
            404,
            "Unknown distributor GUID",
        ),
        (
            {
                "coupontype": "NewProduct",
                "couponscount": "1",
                "distributorguid": "6a3c1d1e-0000-4000-8000-000000000000",
            },
            404,
            "Unknown distributor GUID",
        ),
    ],
)
def test_generate_refuses_as_the_hosted_service_does(api, product, body, status, message) -> None:
    answer = api("post", "coupons/generate", body)

    assert answer.status_code == status
    assert answer.json() == {"message": message}


def test_generate_refuses_an_unknown_product_with_404(api, product) -> None:
    body = {"coupontype": "NewProduct", "couponscount": "1", "products": [{"guid": "nope"}]}

    answer = api("post", "coupons/generate", body)

    assert answer.status_code == 404
    assert answer.json()["message"].startswith("Unknown product GUID")


def test_generate_refuses_the_rest_with_422(api, product) -> None:
    no_products = api("post", "coupons/generate", {"coupontype": "NewProduct"})
    bad_kind = api("post", "coupons/generate", {"coupontype": "Gift", "couponscount": "1"})

    assert no_products.status_code == 422
    assert no_products.json()["code"] == 4220
    assert bad_kind.status_code == 422
    assert "coupontype" in bad_kind.json()["fields"]


def test_generate_an_upgrade_for_a_key(api, product) -> None:
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    body = {
        "coupontype": "Upgrade",
        "couponscount": "1",
        "licensekey": key.number,
        "products": [{"guid": "7", "multiplier": "5"}],
    }

    answer = api("post", "coupons/generate", body)

    assert answer.status_code == 200, answer.content
    batch = Coupon.objects.get(code=answer.json()[0]).batch
    assert batch.target_key == key
    assert batch.lines.get().key_line == key.lines.get()


def _trial(email: str, company: str, *, inn: str = "") -> None:
    trial_register(
        product_id=7,
        questionnaire={
            "company": company,
            "contact": "Иван",
            "email": email,
            "phone": "+7 900 000-00-00",
            "inn": inn,
        },
        unit=Unit(user="buh", host="pc", database="base"),
        fingerprint={"machine": email},
        app_version="3.1.4",
    )


def test_new_trials_come_after_the_last_result_id_with_exactly_the_documented_fields(
    api, product
) -> None:
    _trial("a@firm.ru", "ООО Альфа", inn="7707083893")
    _trial("b@firm.ru", "ООО Бета")

    first = api("post", "trials/new", {"lastresultid": "0"}, role="readonly").json()
    after = api("post", "trials/new", {"lastresultid": str(first[0]["result_id"])}).json()
    none_left = api("post", "trials/new", {"lastresultid": first[-1]["result_id"]}).json()

    assert [set(row) for row in first] == [TRIAL_FIELDS, TRIAL_FIELDS]
    assert first[0]["shortname"] == "ООО Альфа"
    assert first[0]["inn"] == "7707083893"
    assert first[0]["email"] == "a@firm.ru"
    assert first[0]["product"] == "Продукт 7"
    assert first[0]["description"] == "Get trial from 3.1.4"
    assert datetime.fromisoformat(first[0]["dateactivated"]).tzinfo is None
    assert [row["shortname"] for row in after] == ["ООО Бета"]
    assert none_left == []


def test_expiring_subscriptions_of_a_period_with_exactly_the_documented_fields(
    api, product
) -> None:
    manager = StaffUserFactory(first_name="Анна", last_name="Сидорова")
    distributor = DistributorFactory(name="Партнёр-Юг")
    client = make_client(
        crm_id1="7707083893", crm_id2="c0a8-01", manager=manager, distributor=distributor
    )
    key = license_key_generate(client=client, actor=ACTOR)
    noon = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    key_line_add(
        key=key, product=product, actor=ACTOR, starts_at=noon, expires_at=noon + timedelta(10)
    )
    key_line_add(
        key=key, product=product, actor=ACTOR, starts_at=noon, expires_at=noon + timedelta(40)
    )
    key_line_add(
        key=key,
        product=product,
        actor=ACTOR,
        is_trial=True,
        starts_at=noon,
        expires_at=noon + timedelta(5),
    )
    start = timezone.localdate()
    body = {
        "DATE_FROM": start.isoformat(),
        "DATE_TO": (start + timedelta(30)).strftime("%d.%m.%Y"),
        "TRIALS": "false",
    }

    paid = api("post", "subscriptions/expiring", body, role="support").json()
    with_trials = api("post", "subscriptions/expiring", {**body, "TRIALS": "true"}).json()

    assert len(paid) == 1
    assert set(paid[0]) == EXPIRING_FIELDS
    assert paid[0] == {
        "licensekey": key.number,
        "companyname": "ООО Ромашка",
        "contact": "Иван Петров",
        "email": "",
        "crmRef1": "7707083893",
        "crmRef2": "c0a8-01",
        "product": "Продукт 7",
        "product_en": "Accounting add-on",
        "expired": paid[0]["expired"],
        "distributor": "Партнёр-Юг",
        "responsible": "Анна Сидорова",
    }
    assert paid[0]["expired"].startswith((start + timedelta(10)).isoformat())
    assert len(with_trials) == 2


def test_expiring_subscriptions_refuse_a_missing_period(api) -> None:
    answer = api("post", "subscriptions/expiring", json.dumps({"DATE_FROM": "", "DATE_TO": ""}))

    assert answer.status_code == 422
    assert set(answer.json()["fields"]) == {"DATE_FROM", "DATE_TO"}


def test_the_map_places_clients_by_the_country_of_their_ip_without_names(api, product) -> None:
    from licentia.licensing.models import Session

    moscow = license_key_generate(client=make_client(company="ООО Москва"), actor=ACTOR)
    kyiv = license_key_generate(client=make_client(company="ООО Вчера"), actor=ACTOR)
    for key in (moscow, kyiv):
        key_line_add(key=key, product=product, actor=ACTOR)
    session_capture(
        key_number=moscow.number,
        feature_id=1,
        unit=Unit(user="buh", host="pc", database="base"),
        fingerprint={},
        ip="77.88.8.8",
    )
    old = session_capture(
        key_number=kyiv.number,
        feature_id=1,
        unit=Unit(user="buh", host="pc", database="base"),
        fingerprint={},
        ip="77.88.8.1",
    )
    session_reset(session=old.session, actor=ACTOR)
    Session.objects.filter(pk=old.session.pk).update(started_at=timezone.now() - timedelta(days=40))

    as_array = api("post", "map", {"features": [1]}, role="support")
    as_string = api("post", "map", {"features": "[1]"})
    other_feature = api("post", "map", {"features": "[2]"})

    assert as_array.status_code == 200, as_array.content
    assert as_array.json() == [{"latitude": 60.0, "longitude": 100.0, "online": True}]
    assert as_string.json() == as_array.json()
    assert other_feature.json() == []
    assert "Москва" not in as_array.content.decode()


def test_the_map_refuses_features_that_are_not_a_json_array(api) -> None:
    answer = api("post", "map", {"features": "1, 2"})

    assert answer.status_code == 422
    assert "features" in answer.json()["fields"]
