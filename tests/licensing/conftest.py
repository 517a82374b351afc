from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from tests.factories import make_client, make_product

ACTOR = Actor.system("tests")
FINGERPRINT = {"machine_id": "4c4c4544-0042", "host": "buh-01"}

Call = Callable[..., Any]


@pytest.fixture
def call(client: HttpClient) -> Call:
    """POSTs JSON to the application protocol and returns the response with .json() ready."""

    def post(path: str, body: dict[str, Any] | str, **headers: str) -> Any:
        return client.post(
            f"/api/app/v1/{path}",
            data=body,
            content_type="application/json",
            headers=headers,
        )

    return post


@pytest.fixture
def key() -> LicenseKey:
    """A key with 2 floating USER seats of feature 10 and 1 bound HOST seat of feature 20."""
    product = make_product(1, (10, LicenseType.USER, 2, False), (20, LicenseType.HOST, 1, False))
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    return key
