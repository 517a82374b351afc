"""While the database cannot be reached the protocol answers 503 with code 5030 and
Retry-After, the cabinet a short page saying so, and the reference client waits and retries."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from licentia_client import LicentiaClient, LicentiaError

pytestmark = pytest.mark.django_db

UNREACHABLE = OperationalError('connection to server at "127.0.0.1", port 5432 failed')


@pytest.mark.parametrize("error", [UNREACHABLE, InterfaceError("connection already closed")])
def test_the_protocol_answers_5030_json_with_retry_after(monkeypatch, error: Exception) -> None:
    def down(number: str) -> None:
        raise error

    monkeypatch.setattr("licentia.api.app_v1.key_find", down)
    client = Client(raise_request_exception=False)

    answer = client.post("/api/app/v1/license", {"key": "DEMO-1"}, content_type="application/json")

    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json() == {
        "code": 5030,
        "message": "Сервер сейчас не может связаться со своей базой данных: повторите позже, "
        "а пока работайте автономно.",
        "retry_after": 5,
    }


def database_down(monkeypatch) -> None:
    def load(self: object) -> None:
        raise UNREACHABLE

    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", load)


def test_the_cabinet_shows_a_short_page_saying_the_database_is_unreachable(
    monkeypatch, full_access_user
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(full_access_user)
    database_down(monkeypatch)

    answer = client.get("/")

    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert "База данных недоступна" in answer.content.decode()


def test_outside_the_view_the_protocol_still_answers_json(monkeypatch) -> None:
    def failing(self: object, request: object) -> None:
        raise UNREACHABLE

    # A middleware of the protocol's own, before the protocol's handlers run.
    monkeypatch.setattr("django.middleware.common.CommonMiddleware.process_request", failing)
    client = Client(raise_request_exception=False)

    answer = client.get("/api/app/v1/public-key", headers={"Accept-Language": "en"})

    assert answer.status_code == 503
    assert answer.json()["code"] == 5030
    assert answer.json()["retry_after"] == 5


def test_a_protocol_call_never_reads_the_cabinets_session(monkeypatch, full_access_user) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(full_access_user)
    database_down(monkeypatch)

    answer = client.get("/api/app/v1/public-key")

    assert answer.status_code == 200
    assert answer.json()["public_key"]


def test_other_server_errors_stay_plain_500s(monkeypatch) -> None:
    def broken(number: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("licentia.api.app_v1.key_find", broken)
    client = Client(raise_request_exception=False)

    answer = client.post("/api/app/v1/license", {"key": "DEMO-1"}, content_type="application/json")

    assert answer.status_code == 500
    assert answer.json()["code"] == 5000
    assert "Retry-After" not in answer


class FlakyServer(BaseHTTPRequestHandler):
    """Answers 503 as many times as `outages` says, then the license."""

    outages: list[bytes] = []
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.outages:
            body = self.outages.pop(0)
            self.send_response(503)
            self.send_header("Retry-After", "0")
        else:
            body = json.dumps({"key": "DEMO-1", "certificate": "c"}).encode()
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyServer)
    FlakyServer.calls = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


REFUSAL = json.dumps({"code": 5030, "message": "database unreachable"}).encode()


def test_the_reference_client_retries_5030_after_retry_after(flaky: str) -> None:
    FlakyServer.outages = [REFUSAL, b"<html>502 Bad Gateway</html>"]

    answer = LicentiaClient(flaky).license("DEMO-1")

    assert answer["key"] == "DEMO-1"
    assert FlakyServer.calls == 3


def test_the_reference_client_gives_up_after_its_retries(flaky: str) -> None:
    FlakyServer.outages = [REFUSAL] * 5

    with pytest.raises(LicentiaError) as refused:
        LicentiaClient(flaky, retries=2).license("DEMO-1")

    assert refused.value.code == 5030
    assert refused.value.retry_after == "0"
    assert FlakyServer.calls == 3


def test_the_reference_client_waits_as_told_within_its_bound() -> None:
    client = LicentiaClient("http://127.0.0.1:1", max_retry_wait=10)

    def waits(retry_after: str | None, attempt: int) -> float:
        return client._retry_wait(LicentiaError(5030, "", 503, {}, retry_after), attempt)

    assert [waits("3", 0), waits("120", 0), waits(None, 0), waits(None, 2)] == [3, 10, 1, 4]
