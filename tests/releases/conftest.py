from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from licentia.catalog.models import LicenseType, Product
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from licentia.releases.models import Distribution, Release
from licentia.releases.services import FileIn, ReleaseIn, release_publish
from tests.api.vendor.conftest import api, token_of  # noqa: F401 - the vendor API's fixtures
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR, call  # noqa: F401 - the protocol's fixture

SUBSCRIPTION_FEATURE = 70
LINKED_FEATURE = 80


def noon(day: date) -> datetime:
    """Local noon of the day: tests never depend on the hour they run at."""
    return timezone.make_aware(datetime.combine(day, time(12)))


def today() -> date:
    return timezone.localdate()


def make_distribution(identifier: str = "buh", **fields: Any) -> Distribution:
    linked = fields.pop("linked_products", [])
    distribution = Distribution.objects.create(
        identifier=identifier,
        name_ru=fields.pop("name_ru", "Бухгалтерия"),
        name_en=fields.pop("name_en", "Accounting"),
        developer=fields.pop("developer", "ООО Разработчик"),
        **fields,
    )
    distribution.linked_products.set(linked)
    return distribution


def publish(distribution: Distribution, version: str, released_on: date, **fields: Any) -> Release:
    files = fields.pop(
        "files",
        [
            FileIn(
                name=f"setup-{version}.zip",
                url=f"https://files.example.ru/{distribution.identifier}/{version}/setup.zip",
                size=1000,
                md5="0" * 32,
                sha256="1" * 64,
            )
        ],
    )
    release, _created = release_publish(
        distribution=distribution,
        data=ReleaseIn(version=version, released_on=released_on, files=files, **fields),
        actor=ACTOR,
    )
    return release


@pytest.fixture
def subscription_product(db: None) -> Product:
    return make_product(7, (SUBSCRIPTION_FEATURE, LicenseType.USER, 1, False), trial_days=14)


@pytest.fixture
def linked_product(db: None) -> Product:
    return make_product(8, (LINKED_FEATURE, LicenseType.USER, 1, False))


@pytest.fixture
def distribution(subscription_product: Product, linked_product: Product) -> Distribution:
    from licentia.catalog.models import Feature

    return make_distribution(
        feature=Feature.objects.get(pk=SUBSCRIPTION_FEATURE),
        linked_products=[linked_product],
    )


def make_key(**client_fields: Any) -> LicenseKey:
    return license_key_generate(client=make_client(**client_fields), actor=ACTOR)


def add_line(
    key: LicenseKey, product: Product, *, starts: date, ends: date | None = None, **fields: Any
) -> None:
    key_line_add(
        key=key,
        product=product,
        actor=ACTOR,
        starts_at=noon(starts),
        expires_at=noon(ends) if ends else None,
        **fields,
    )


ONE_DAY = timedelta(days=1)
