"""Whatever goes wrong under /api/app/, the application gets a coded JSON refusal, never an
HTML or text page."""

import io
import socket

import pytest
from django.test import Client

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")


def post(client: Client, path: str, body: object, **extra: str):
    return client.post(path, data=body, content_type="application/json", **extra)


def test_a_body_above_the_limit_is_refused_with_413_json(client) -> None:
    answer = post(client, "/api/app/v1/license", {"key": "x" * (10 * 1024 * 1024)})

    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == 4130
    assert answer.json()["message"] == "Тело запроса слишком велико."


def test_the_body_limit_is_a_setting(client, settings) -> None:
    settings.MAX_BODY_BYTES = 100

    answer = post(client, "/api/app/v1/license", {"key": "K" * 200}, HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 413
    assert answer.json() == {"code": 4130, "message": "The request body is too large."}


def test_a_large_body_is_refused_before_it_is_read(live_server) -> None:
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(
            b"POST /api/app/v1/license HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{"
        )
        # Only the headers and one byte were sent: a server reading the body would wait.
        answer = b""
        while b"}" not in answer and (chunk := connection.recv(65536)):
            answer += chunk

    assert answer.decode().startswith("HTTP/1.1 413")
    assert b'"code": 4130' in answer


def chunked(client: Client, body: bytes, **extra: str):
    """A POST whose body comes in chunks, without Content-Length, as some HTTP clients send:
    the WSGI server hands the decoded body over as a stream of unknown length."""
    return client.post(
        "/api/app/v1/license",
        data=body,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
        **extra,
    )


def test_a_chunked_body_is_read(client, token_key: str) -> None:
    answer = chunked(client, f'{{"key": "{token_key}"}}'.encode())

    assert answer.status_code == 200
    assert answer.json()["key"] == token_key


def test_a_chunked_body_above_the_limit_is_refused_with_413_json(client, settings) -> None:
    settings.MAX_BODY_BYTES = 100

    answer = chunked(client, b'{"key": "' + b"K" * 200 + b'"}', HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 413
    assert answer.json() == {"code": 4130, "message": "The request body is too large."}


def test_a_wrong_method_is_405_json_with_the_allowed_ones(client) -> None:
    answer = client.get("/api/app/v1/trial")

    assert answer.status_code == 405
    assert answer["Allow"] == "POST"
    assert answer.json()["code"] == 4050


@pytest.mark.parametrize(
    "path", ["/api/app/v1/nothing", "/api/app/v1/trial/", "/api/app/v2/trial", "/api/app"]
)
def test_an_unknown_path_is_404_json_for_get_and_post(path: str) -> None:
    # A client without CSRF leniency, as an application is.
    client = Client(enforce_csrf_checks=True)

    for answer in (client.get(path), post(client, path, {})):
        assert answer.status_code == 404, path
        assert answer.json()["code"] == 4040


@pytest.fixture
def token_key() -> str:
    product = make_product(1, (20, LicenseType.TOKEN, 100, False))
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    return key.number


@pytest.mark.parametrize("amount", [True, "1", 1.0])
def test_a_number_must_be_a_json_number(client, token_key: str, amount: object) -> None:
    answer = post(
        client, "/api/app/v1/tokens/consume", {"key": token_key, "feature_id": 20, "amount": amount}
    )

    assert answer.status_code == 422
    assert answer.json()["code"] == 4220
    assert set(answer.json()["errors"]) == {"amount"}
    assert post(
        client, "/api/app/v1/tokens/consume", {"key": token_key, "feature_id": "20", "amount": 1}
    ).json()["errors"] == {"feature_id": ["Введите целое число."]}
    balance = post(
        client, "/api/app/v1/tokens/consume", {"key": token_key, "feature_id": 20, "amount": 1}
    )
    assert balance.json() == {"balance": 99}
