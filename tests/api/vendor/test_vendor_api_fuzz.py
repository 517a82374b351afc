"""Generated requests, valid and invalid, against the vendor API's served OpenAPI, made with a
key of full access: never a server error, and every answer matches the schema it documents."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from licentia.api.services import api_key_create
from licentia.catalog.models import LicenseType
from licentia.core.models import VendorSettings
from licentia.keys.services import key_line_add, license_key_generate
from licentia.wsgi import application
from tests.api.vendor.conftest import ACTOR
from tests.factories import make_client, make_product

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def connections_kept_open() -> Iterator[None]:
    # As Django's test client does: the application is called in-process, inside the test's
    # transaction, which closing connections at the end of each request would break.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    product = make_product(1, (1, LicenseType.USER, 1, True), crm_guid="guid-1")
    key = license_key_generate(client=make_client(crm_id2="c-1"), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    VendorSettings.objects.filter(pk=1).update(api_calls_per_minute=100000)
    return api_key_create(name="fuzz", role="full", actor=ACTOR).token


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_vendor_api_never_fails_and_keeps_to_its_schema(case, token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
