"""POST /api/app/v1/releases: the call installers and auto-update make, with the body and
answer of the service 1C vendors already use."""

from datetime import timedelta

import pytest
from django.test import override_settings

from licentia.catalog.models import Product
from licentia.keys.models import KeyLine
from licentia.notifications.models import MailKind, Notification
from licentia.releases.models import Compatibility, Distribution, ReleaseFile
from licentia.releases.services import FileIn, release_settings_update
from tests.releases.conftest import ACTOR, ONE_DAY, add_line, make_key, publish, today

pytestmark = pytest.mark.django_db

MODULE_FIELDS = {
    "release_id",
    "uniqid",
    "version",
    "developer",
    "min_1c_version",
    "lic_product_id",
    "lic_feature_id",
    "name",
    "description",
    "promo_link",
    "changelog",
    "size",
    "download_link",
    "files",
}


def body(key: str, **fields: str) -> dict[str, str]:
    return {
        "INSTALLED_VERSION": "1.0",
        "TYPE": "buh",
        "CONF": "Бухгалтерия предприятия",
        "CONF_VERSION": "3.0.150.20",
        "KEY": key,
        "SHOW_UNTESTED": "Y",
        "COUNT_DOWNLOADS": "N",
        **fields,
    }


@pytest.fixture
def licensed(distribution: Distribution, linked_product: Product):
    key = make_key()
    add_line(key, linked_product, starts=today() - ONE_DAY)
    return key


def test_the_documented_body_gets_exactly_the_documented_fields(call, licensed) -> None:
    distribution = Distribution.objects.get(identifier="buh")
    distribution.documentation_url = "https://docs.example.ru/buh"
    distribution.save()
    publish(distribution, "1.0", today() - 9 * ONE_DAY, whats_new_ru="Первый")
    publish(
        distribution,
        "1.1",
        today(),
        whats_new_ru="Второй",
        min_platform_version="8.3.24",
        files=[
            FileIn(name="setup.zip", url="https://files.example.ru/a.zip", size=10, md5="a" * 32),
            FileIn(name="docs.pdf", url="https://files.example.ru/b.pdf", size=5, md5="b" * 32),
        ],
    )

    answer = call("releases", body(licensed.number))

    assert answer.status_code == 200
    data = answer.json()
    assert set(data) == {"modules", "result"}
    assert data["result"] == ""
    [module] = data["modules"]
    assert set(module) == MODULE_FIELDS
    assert module["version"] == "1.1"
    assert module["uniqid"] == "buh"
    assert module["developer"] == "ООО Разработчик"
    assert module["min_1c_version"] == "8.3.24"
    assert module["lic_feature_id"] == 70
    assert module["lic_product_id"] == 8  # the linked product; no trial product set
    assert module["name"] == "Бухгалтерия"
    assert module["promo_link"] == "https://docs.example.ru/buh"
    assert module["changelog"] == "1.1:\nВторой"
    assert module["size"] == 15
    assert module["download_link"] == "https://files.example.ru/a.zip"
    assert module["files"] == [
        {"name": "setup.zip", "size": 10, "url": "https://files.example.ru/a.zip", "md5": "a" * 32},
        {"name": "docs.pdf", "size": 5, "url": "https://files.example.ru/b.pdf", "md5": "b" * 32},
    ]


def test_an_unlicensed_key_is_offered_nothing(call, distribution: Distribution) -> None:
    publish(distribution, "2.0", today())
    answer = call("releases", body(make_key().number))
    assert answer.status_code == 200
    assert answer.json() == {"modules": [], "result": ""}


def test_no_type_offers_every_distribution_and_an_unknown_type_none(
    call, licensed, distribution: Distribution, linked_product: Product
) -> None:
    from tests.releases.conftest import make_distribution

    other = make_distribution("zup", linked_products=[linked_product])
    publish(distribution, "2.0", today())
    publish(other, "3.0", today())
    everything = call("releases", body(licensed.number, TYPE="")).json()["modules"]
    absent = call("releases", {"KEY": licensed.number}).json()["modules"]
    unknown = call("releases", body(licensed.number, TYPE="nothing")).json()["modules"]
    assert [(m["uniqid"], m["version"]) for m in everything] == [("zup", "3.0"), ("buh", "2.0")]
    assert absent == everything
    assert unknown == []


def test_releases_not_marked_compatible_are_left_out_unless_asked_for(
    call, licensed, distribution: Distribution
) -> None:
    tested = publish(distribution, "2.0", today())
    publish(distribution, "2.1", today())
    Compatibility.objects.create(
        release=tested,
        configuration="Бухгалтерия предприятия",
        min_version="3.0.100",
        max_version="3.0.200",
    )
    strict = call("releases", body(licensed.number, SHOW_UNTESTED="N")).json()["modules"]
    loose = call("releases", body(licensed.number, SHOW_UNTESTED="Y")).json()["modules"]
    outside = call(
        "releases", body(licensed.number, SHOW_UNTESTED="N", CONF_VERSION="3.0.201")
    ).json()["modules"]
    assert [m["version"] for m in strict] == ["2.0"]
    assert [m["version"] for m in loose] == ["2.1", "2.0"]
    assert outside == []


def test_the_cdn_host_replaces_the_origin_and_counted_links_count_each_download(
    call, client, licensed, distribution: Distribution
) -> None:
    publish(distribution, "2.0", today())
    release_settings_update(actor=ACTOR, cdn_host="cdn.example.ru")
    direct = call("releases", body(licensed.number)).json()["modules"][0]
    counted = call("releases", body(licensed.number, COUNT_DOWNLOADS="Y")).json()["modules"][0]
    assert direct["download_link"] == "https://cdn.example.ru/buh/2.0/setup.zip"
    assert "/releases/download/" in counted["download_link"]

    path = counted["download_link"].split("://", 1)[1].split("/", 1)[1]
    first = client.get("/" + path)
    client.get("/" + path)
    assert first.status_code == 302
    assert first["Location"] == "https://cdn.example.ru/buh/2.0/setup.zip"
    assert ReleaseFile.objects.get().downloads == 2
    assert client.get("/releases/download/forged").status_code == 404


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"INSTALLED_VERSION": "1.0-beta"}, "INSTALLED_VERSION"),
        ({"SHOW_UNTESTED": "yes"}, "SHOW_UNTESTED"),
        ({"KEY": ""}, "KEY"),
    ],
)
def test_bad_input_is_400_with_an_error(call, licensed, fields, word) -> None:
    answer = call("releases", body(licensed.number, **fields))
    assert answer.status_code == 400
    assert set(answer.json()) == {"error"}
    assert word in answer.json()["error"]


def test_a_body_that_is_not_json_is_400_with_an_error(call) -> None:
    answer = call("releases", "{not json")
    assert answer.status_code == 400
    assert "error" in answer.json()


@pytest.mark.parametrize(
    ("number", "code"),
    [("DEMO-00000-00000-00000-00000", 2009), ("not a key", 2026)],
)
def test_a_key_refusal_is_as_in_the_protocol(call, number: str, code: int) -> None:
    answer = call("releases", body(number))
    assert answer.json()["code"] == code


def test_a_blocked_key_is_refused_2060(call, licensed) -> None:
    licensed.blocked = True
    licensed.save()
    answer = call("releases", body(licensed.number))
    assert answer.status_code == 403
    assert answer.json()["code"] == 2060


@override_settings(LANGUAGE_CODE="ru")
def test_a_key_without_the_feature_gets_the_subscription_trial_once(
    call, distribution: Distribution, subscription_product: Product
) -> None:
    distribution.trial_product = subscription_product
    distribution.save()
    publish(distribution, "2.0", today() - 3 * ONE_DAY)
    key = make_key(email="buh@romashka.ru")

    first = call("releases", body(key.number)).json()["modules"]
    KeyLine.objects.filter(key=key).update(expires_at=KeyLine.objects.get().starts_at + ONE_DAY)
    second = call("releases", body(key.number)).json()["modules"]

    [line] = KeyLine.objects.filter(key=key)
    assert line.product_id == subscription_product.pk
    assert line.is_trial
    assert [m["version"] for m in first] == ["2.0"]
    assert [m["version"] for m in second] == ["2.0"]
    assert Notification.objects.filter(kind=MailKind.NEW_TRIAL).count() == 1


def test_a_key_that_had_the_feature_gets_no_trial(
    call, distribution: Distribution, subscription_product: Product
) -> None:
    distribution.trial_product = subscription_product
    distribution.save()
    key = make_key()
    add_line(key, subscription_product, starts=today() - 40 * ONE_DAY, ends=today() - ONE_DAY)
    call("releases", body(key.number))
    assert KeyLine.objects.filter(key=key).count() == 1


def test_the_reference_client_lists_the_releases(live_server, licensed, distribution) -> None:
    from licentia_client.client import LicentiaClient

    publish(distribution, "1.2.3", today() - timedelta(days=2))
    publish(distribution, "1.2.10", today())
    modules = LicentiaClient(live_server.url).releases(
        licensed.number, distribution="buh", installed="1.2.3"
    )
    assert [m["version"] for m in modules] == ["1.2.10"]
