"""Generated requests against the publishing calls of the vendor API, made with a Full access
key: never a server error, and every answer matches the schema it documents."""

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
from licentia.wsgi import application
from tests.releases.conftest import ACTOR, make_distribution, publish, today

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex="releases"
)


@pytest.fixture(autouse=True)
def connections_kept_open() -> Iterator[None]:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


TOKEN: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class BuildServerKey:
    """The Full access key of the test, so that generated requests know they carry one."""

    def get(self, case, context) -> str:
        return TOKEN.get("value", "")

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(autouse=True)
def token(db) -> None:
    publish(make_distribution(), "1.0", today())
    TOKEN["value"] = api_key_create(name="build", role="full", actor=ACTOR).token


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_publishing_never_fails_and_keeps_to_its_schema(case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
