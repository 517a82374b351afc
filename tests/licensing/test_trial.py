from datetime import timedelta

import pytest
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.clients.models import Client, ClientSource
from licentia.core.models import AuditEvent
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import LicenseKey
from licentia.licensing.signals import trial_registered
from licentia_client import verify_certificate
from tests.factories import make_product
from tests.licensing.conftest import FINGERPRINT

pytestmark = pytest.mark.django_db

QUESTIONNAIRE = {
    "product_id": 100,
    "company": "ООО «Ромашка»",
    "contact": "Иван Петров",
    "email": "Buh@Romashka.ru",
    "phone": "+7 (912) 759-10-59",
    "inn": "7707083893",
    "user": "Иванов",
    "host": "buh-01",
    "fingerprint": FINGERPRINT,
    "app_version": "3.1.2",
    "nonce": "n-1",
}


@pytest.fixture
def trial_product():
    return make_product(100, (10, LicenseType.USER, 1, False), trial_days=14)


def test_a_trial_creates_the_client_the_key_and_a_trial_line(
    call, trial_product, django_capture_on_commit_callbacks
) -> None:
    sent = []

    def receive(**kwargs):
        sent.append(kwargs["line"])

    trial_registered.connect(receive)
    with django_capture_on_commit_callbacks(execute=True):
        answer = call("trial", QUESTIONNAIRE)
    trial_registered.disconnect(receive)

    assert answer.status_code == 201
    body = answer.json()
    client = Client.objects.get()
    assert (client.source, client.email, client.phone_e164) == (
        ClientSource.TRIAL,
        "buh@romashka.ru",
        "+79127591059",
    )
    key = LicenseKey.objects.get(client=client)
    line = key.lines.get()
    assert body["key"] == key.number
    assert body["trial_granted"] is True
    assert line.is_trial
    assert line.expires_at - line.starts_at == timedelta(days=14)
    assert body["products"][0]["state"] == "active"
    assert body["summary"] == [
        {
            "feature_id": 10,
            "feature_name": "Фича 10",
            "type": "USER",
            "total": 1,
            "occupied": 0,
            "free": 1,
        }
    ]
    assert sent == [line]
    assert AuditEvent.objects.filter(action="trial.register", object_id=str(key.pk)).exists()
    payload = verify_certificate(
        body["certificate"],
        vendor_settings_get().signing_public_key,
        fingerprint=FINGERPRINT,
        nonce="n-1",
    )
    assert payload["features"] == [
        {"id": 10, "type": "USER", "total": 1, "expires_at": payload["features"][0]["expires_at"]}
    ]


def test_a_second_trial_of_the_product_gives_the_same_key_and_no_new_trial(
    call, trial_product
) -> None:
    first = call("trial", QUESTIONNAIRE).json()

    again = call("trial", {**QUESTIONNAIRE, "company": "Ромашка, ООО"})

    assert again.status_code == 200
    assert again.json()["key"] == first["key"]
    assert again.json()["trial_granted"] is False
    assert LicenseKey.objects.get().lines.count() == 1


def test_an_email_of_another_company_is_refused_with_2022(call, trial_product) -> None:
    call("trial", QUESTIONNAIRE)

    answer = call(
        "trial", {**QUESTIONNAIRE, "company": "ООО Лютик", "fingerprint": {"machine_id": "other"}}
    )

    assert (answer.status_code, answer.json()["code"]) == (409, 2022)
    assert Client.objects.count() == 1


def test_a_machine_registered_under_another_email_is_refused_with_2051(call, trial_product) -> None:
    call("trial", QUESTIONNAIRE)

    answer = call("trial", {**QUESTIONNAIRE, "email": "other@lutik.ru", "company": "Лютик"})

    assert (answer.status_code, answer.json()["code"]) == (409, 2051)
    assert Client.objects.count() == 1


def test_a_product_giving_a_permanent_license_instead_of_a_trial(call) -> None:
    make_product(101, (10, LicenseType.USER, 1, False), permanent_instead_of_trial=True)

    answer = call("trial", {**QUESTIONNAIRE, "product_id": 101})

    line = LicenseKey.objects.get().lines.get()
    assert answer.status_code == 201
    assert (line.is_trial, line.expires_at) == (False, None)


def test_a_product_without_a_trial_and_bad_fields_are_invalid_requests(call) -> None:
    make_product(102, (10, LicenseType.USER, 1, False))

    no_trial = call("trial", {**QUESTIONNAIRE, "product_id": 102})
    bad_fields = call("trial", {**QUESTIONNAIRE, "email": "not-an-address", "inn": "7707083894"})
    missing = call("trial", {"product_id": 102})
    not_json = call("trial", "{nope")

    assert no_trial.status_code == 422
    assert set(no_trial.json()["errors"]) == {"product_id"}
    assert bad_fields.json()["code"] == 4220
    assert set(bad_fields.json()["errors"]) == {"product_id"}  # the product is checked first
    assert {"company", "email", "user", "host", "fingerprint"} <= set(missing.json()["errors"])
    assert (not_json.status_code, not_json.json()["code"]) == (422, 4220)
    assert not Client.objects.exists()


def test_a_questionnaire_with_a_wrong_inn_is_refused_on_that_field(call, trial_product) -> None:
    answer = call("trial", {**QUESTIONNAIRE, "email": "x", "inn": "7707083894"})

    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"email"}
    inn_only = call("trial", {**QUESTIONNAIRE, "inn": "7707083894"})
    assert set(inn_only.json()["errors"]) == {"inn"}


def test_refusals_speak_the_language_asked_for(call, trial_product) -> None:
    russian = call("license", {"key": "DEMO-00000-00000-00000-00000"}, **{"Accept-Language": "ru"})
    english = call("license", {"key": "DEMO-00000-00000-00000-00000", "language": "en"})

    assert russian.json()["message"] == "Неизвестный лицензионный ключ."
    assert english.json()["message"] == "Unknown license key."


def test_trials_are_rate_limited_per_ip(call, trial_product, settings) -> None:
    settings.LICENTIA_TRIAL_RATE_LIMIT = 2
    for number in range(2):
        call(
            "trial",
            {**QUESTIONNAIRE, "email": f"u{number}@x.ru", "fingerprint": {"n": str(number)}},
        )

    refused = call("trial", QUESTIONNAIRE)

    assert refused.status_code == 429
    assert refused.json()["code"] == 4290
    assert 1 <= int(refused["Retry-After"]) <= 3600


def test_license_info_counts_seats_taken_and_free(call, key) -> None:
    call("capture", {"key": key.number, "feature_id": 10, "user": "u", "host": "h"})

    body = call("license", {"key": key.number}).json()

    assert [
        (row["type"], row["total"], row["occupied"], row["free"]) for row in body["summary"]
    ] == [
        ("USER", 2, 1, 1),
        ("HOST", 1, 0, 1),
    ]
    assert body["client"]["email"] == "buh@romashka.ru"


def test_the_certificate_is_never_valid_past_the_end_of_the_lines(call) -> None:
    from licentia.core.audit import Actor
    from licentia.keys.services import key_line_add, license_key_generate
    from tests.factories import make_client

    product = make_product(5, (10, LicenseType.USER, 1, False))
    key = license_key_generate(client=make_client(), actor=Actor.system())
    ends = timezone.now() + timedelta(days=2)
    key_line_add(key=key, product=product, actor=Actor.system(), expires_at=ends)

    certificate = call("license", {"key": key.number}).json()["certificate"]

    payload = verify_certificate(certificate, vendor_settings_get().signing_public_key)
    assert payload["valid_until"] == ends.isoformat().replace("+00:00", "Z")


def test_field_errors_speak_the_language_asked_for(call) -> None:
    body = {"feature_id": 0, "user": "x" * 201, "language": "ru"}

    russian = call("capture", body)
    english = call("capture", {**body, "language": "en"})
    by_header = call("capture", {"feature_id": 0}, **{"Accept-Language": "en"})
    not_an_object = call("capture", "[1, 2]", **{"Accept-Language": "ru"})

    assert russian.json()["errors"] == {
        "key": ["Обязательное поле."],
        "feature_id": ["Введите число не меньше 1."],
        "user": ["Введите не более 200 символов."],
    }
    assert english.json()["errors"]["feature_id"] == ["Enter a number of at least 1."]
    assert by_header.json()["errors"]["key"] == ["This field is required."]
    assert not_an_object.json()["errors"] == {"body": ["Укажите объект."]}
