"""Generated requests, valid and invalid, against the served OpenAPI: never a server error,
and every answer matches the schema it documents."""

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

from licentia.catalog.models import Feature, LicenseType
from licentia.keys.services import key_line_add, license_key_generate
from licentia.wsgi import application
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR
from tests.releases.conftest import make_distribution, publish, today

schema = schemathesis.openapi.from_wsgi("/api/app/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def connections_kept_open() -> Iterator[None]:
    # As Django's test client does: the application is called in-process, inside the test's
    # transaction, which closing connections at the end of each request would break.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def licensed_key(db) -> None:
    product = make_product(1, (1, LicenseType.USER, 1, False), (2, LicenseType.TOKEN, 10, False))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    trial = make_product(3, (3, LicenseType.USER, 1, False), trial_days=14)
    distribution = make_distribution(
        "buh", feature=Feature.objects.get(pk=3), trial_product=trial, linked_products=[product]
    )
    publish(distribution, "1.0", today())


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_protocol_never_fails_and_keeps_to_its_schema(case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ]
    )
