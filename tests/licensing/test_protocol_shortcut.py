"""Capture, heartbeat and release are answered by a middleware of the protocol's own, past the
URL resolver and django-ninja: their answers are their routes', byte for byte where the time
does not enter them."""

import json
import logging
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.test import Client

from licentia.api.app_v1 import SHORTCUTS, ShortcutMiddleware
from licentia.core.selectors import vendor_settings_get
from licentia_client import verify_certificate
from tests.licensing.test_capture import capture

pytestmark = pytest.mark.django_db

SHORTCUT = "licentia.api.app_v1.ShortcutMiddleware"
# Headers that differ between any two answers.
PER_ANSWER = {"X-Request-ID", "Date"}
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _routes_only(settings) -> Client:
    """A client whose protocol calls all go through the URL resolver and django-ninja."""
    settings.PROTOCOL_MIDDLEWARE = [
        path for path in django_settings.PROTOCOL_MIDDLEWARE if path != SHORTCUT
    ]
    return Client(raise_request_exception=False)


def _post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(
        f"/api/app/v1/{path}",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def _headers(answer: Any) -> dict[str, str]:
    return {name: value for name, value in answer.items() if name not in PER_ANSWER}


def test_the_shortcut_is_the_last_protocol_middleware_and_takes_the_three_calls() -> None:
    assert django_settings.PROTOCOL_MIDDLEWARE[-1] == SHORTCUT
    assert f"{ShortcutMiddleware.__module__}.{ShortcutMiddleware.__name__}" == SHORTCUT
    assert sorted(SHORTCUTS) == [
        "/api/app/v1/capture",
        "/api/app/v1/heartbeat",
        "/api/app/v1/release",
    ]


def test_a_capture_heartbeat_and_release_answer_as_their_routes_do(key, settings) -> None:
    nonce = "n" * 16
    answers: dict[str, list[Any]] = {"capture": [], "heartbeat": [], "release": []}
    for client, user in ((Client(), "shortcut"), (_routes_only(settings), "route")):
        captured = _post(
            client,
            "capture",
            {"key": key.number, "feature_id": 10, "user": user, "host": "h", "nonce": nonce},
        )
        session_id = captured.json()["session_id"]
        answers["capture"].append(captured)
        answers["heartbeat"].append(
            _post(client, "heartbeat", {"session_id": session_id, "nonce": nonce})
        )
        answers["release"].append(_post(client, "release", {"session_id": session_id}))

    public_key = vendor_settings_get().signing_public_key
    for shortcut, route in answers.values():
        assert shortcut.status_code == route.status_code == 200
        assert _headers(shortcut) == _headers(route)
        assert list(shortcut.json()) == list(route.json())
        if "certificate" in shortcut.json():
            assert verify_certificate(shortcut.json()["certificate"], public_key, nonce=nonce)
    assert answers["release"][0].json()["bound"] is False


BAD_BODIES = [
    ({}, {"Accept-Language": "en"}),
    (["session_id"], {}),
    ("{not json", {}),
    ("", {}),
    ('"\\ud800"', {}),
]


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("heartbeat", {"session_id": UNKNOWN}, {}),
        ("heartbeat", {"session_id": UNKNOWN, "language": "en"}, {}),
        ("heartbeat", {"session_id": UNKNOWN}, {"Accept-Language": "en"}),
        ("heartbeat", {"session_id": "not a uuid"}, {}),
        ("heartbeat", {"session_id": UNKNOWN, "nonce": 5}, {}),
        ("release", {"session_id": UNKNOWN}, {}),
        ("capture", {"key": "DEMO-11111-11111-11111-11111", "feature_id": 10, "user": "u"}, {}),
        ("capture", {"key": "not a key", "feature_id": 10, "user": "u"}, {}),
        ("capture", {"key": "DEMO-11111-11111-11111-11111", "feature_id": "ten"}, {}),
        *[(path, body, headers) for path in SHORTCUTS for body, headers in BAD_BODIES],
    ],
)
def test_a_refused_or_invalid_call_answers_as_its_route_does(
    path: str, body: Any, headers: dict[str, str], settings
) -> None:
    path = path.rsplit("/", 1)[-1]
    shortcut = _post(Client(raise_request_exception=False), path, body, **headers)
    route = _post(_routes_only(settings), path, body, **headers)

    assert shortcut.status_code == route.status_code
    assert shortcut.status_code in (404, 422)
    assert shortcut.content == route.content
    assert _headers(shortcut) == _headers(route)


def test_a_heartbeat_of_an_ended_session_answers_as_the_route_does(call, key, settings) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]
    call("release", {"session_id": session_id})

    shortcut = _post(Client(), "heartbeat", {"session_id": session_id})
    route = _post(_routes_only(settings), "heartbeat", {"session_id": session_id})

    assert (shortcut.status_code, shortcut.json()["code"]) == (404, 2062)
    assert shortcut.content == route.content


def test_a_heartbeat_while_the_database_is_unreachable_answers_as_the_route_does(
    call, key, settings, monkeypatch
) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]

    def down(**_kwargs: Any) -> None:
        raise OperationalError("connection to server failed")

    monkeypatch.setattr("licentia.api.app_v1.session_heartbeat", down)

    shortcut = _post(Client(raise_request_exception=False), "heartbeat", {"session_id": session_id})
    route = _post(_routes_only(settings), "heartbeat", {"session_id": session_id})

    assert (shortcut.status_code, shortcut.json()["code"]) == (503, 5030)
    assert shortcut["Retry-After"] == route["Retry-After"]
    assert shortcut.content == route.content


def test_a_heartbeat_is_logged_once_with_its_request_id(call, key, caplog) -> None:
    session_id = capture(call, key, user="u", host="h").json()["session_id"]
    caplog.set_level(logging.INFO, logger="licentia.request")
    caplog.clear()

    answer = _post(Client(), "heartbeat", {"session_id": session_id}, **{"X-Request-ID": "beat-1"})

    records = [record for record in caplog.records if record.name == "licentia.request"]
    assert [(record.path, record.status, record.request_id) for record in records] == [
        ("/api/app/v1/heartbeat", 200, "beat-1")
    ]
    assert answer["X-Request-ID"] == "beat-1"


def test_the_three_calls_do_not_reach_the_url_resolver(key, monkeypatch) -> None:
    def unreachable(*_args: Any) -> None:
        raise AssertionError("the call went through the URL resolver")

    monkeypatch.setattr("django.urls.resolvers.URLResolver.resolve", unreachable)
    client = Client()

    session_id = _post(
        client, "capture", {"key": key.number, "feature_id": 10, "user": "u", "host": "h"}
    ).json()["session_id"]

    assert _post(client, "heartbeat", {"session_id": session_id}).status_code == 200
    assert _post(client, "release", {"session_id": session_id}).status_code == 200
