"""Clients that send their requests slowly hold no thread of `licentia serve`: the server reads
bodies on its event loop and cuts a body off after LICENTIA_BODY_TIMEOUT seconds (408)."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PORT = 18661
BODY_TIMEOUT = 4
SLOW_CLIENTS = 24  # the server below has 2 threads


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("slow-clients")
    dropped = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "EMAIL_URL"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env |= {
        "LICENTIA_DATA_DIR": str(data_dir),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LICENTIA_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "LOG_LEVEL": "WARNING",
    }
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "licentia.cli", "serve", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "1", "--threads", "2", "--no-worker"],
        env=env, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{PORT}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):  # noqa: S310
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                log.close()
                pytest.fail((data_dir / "server.log").read_text()[-3000:])
            time.sleep(0.3)
    yield base_url
    process.terminate()
    process.wait(timeout=30)
    log.close()


def trickling_client() -> socket.socket:
    """A connection that sent its headers and the first byte of a 60-byte body."""
    slow = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    slow.sendall(
        b"POST /api/app/v1/capture HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n{"
    )
    return slow


def timed(request: urllib.request.Request | str) -> tuple[float, int, bytes]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return time.monotonic() - started, status, body


def test_calls_are_answered_within_a_second_while_more_clients_than_threads_trickle_bodies(
    server: str,
) -> None:
    slow_clients = [trickling_client() for _ in range(SLOW_CLIENTS)]
    try:
        time.sleep(0.3)
        capture = urllib.request.Request(  # noqa: S310
            f"{server}/api/app/v1/capture",
            data=json.dumps(
                {"key": "DEMO-AAAA-BBBB-CCCC-DDDD", "feature_id": 1, "user": "ivanov"}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        answers = []
        for _ in range(5):
            for slow in slow_clients:
                slow.sendall(b" ")  # a byte now and then: the body never completes
            answers.append(timed(f"{server}/healthz"))
            answers.append(timed(capture))

        assert max(seconds for seconds, _status, _body in answers) < 1.0, answers
        health = [json.loads(body) for _s, status, body in answers[::2] if status == 200]
        assert [answer["status"] for answer in health] == ["ok"] * 5
        refusals = [json.loads(body) for _s, status, body in answers[1::2]]
        assert all(refusal["code"] for refusal in refusals), refusals
    finally:
        for slow in slow_clients:
            slow.close()


def test_a_body_that_does_not_arrive_in_time_is_cut_off_with_408(server: str) -> None:
    slow = trickling_client()
    started = time.monotonic()
    answer = b""
    while chunk := slow.recv(4096):
        answer += chunk
    slow.close()

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert f"did not arrive in {BODY_TIMEOUT} s".encode() in answer
    assert BODY_TIMEOUT - 0.5 < time.monotonic() - started < BODY_TIMEOUT + 3


def test_a_header_name_with_an_underscore_never_reaches_django() -> None:
    from licentia.asgi import _environ

    environ = _environ(
        {
            "method": "GET",
            "path": "/healthz",
            "headers": [
                (b"x_forwarded_for", b"6.6.6.6"),
                (b"x-forwarded-for", b"10.0.0.1"),
                (b"content-type", b"application/json"),
                (b"cookie", b"a=1"),
                (b"cookie", b"b=2"),
            ],
            "client": ("127.0.0.1", 5000),
        },
        b"{}",
    )

    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["wsgi.input"].read() == b"{}"
