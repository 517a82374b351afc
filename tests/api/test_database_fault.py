"""The database goes away and comes back while applications call the protocol: a real server
(gunicorn, with its persistent connections) reaches PostgreSQL through a TCP proxy the test
kills and restarts. Every answer meanwhile is the protocol's own (a success, a coded refusal,
or JSON 503 5030 with Retry-After), no seat is oversold and no token lost, and calls succeed
again within 2 s of the database's return, without a restart."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from tests.factories import make_client, make_product

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a database server to stop and start: SQLite is a file in the process",
    ),
]

PROXY_PORT = 18251
SERVER_PORT = 18252
SEATS = 4
UNITS = 6  # more than the seats, so the seat count is contended while the database flickers
TOKENS = 100_000
OUTAGE_SECONDS = 3.0
RECOVERY_LIMIT_SECONDS = 2.0

ACTOR = Actor.system("tests")


class TcpProxy:
    """Forwards 127.0.0.1:port to the database; stop() cuts every connection and refuses new
    ones, as a stopped server does."""

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.port = port
        self.upstream = upstream
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.running = threading.Event()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.1)
        self.running.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self.running.is_set():
                try:
                    client, _address = listener.accept()
                except TimeoutError:
                    continue
                try:
                    upstream = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    client.close()
                    continue
                client.settimeout(None)
                upstream.settimeout(None)
                with self.lock:
                    self.sockets |= {client, upstream}
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.running.clear()
        time.sleep(0.2)  # the listener closes within its accept timeout
        with self.lock:
            cut, self.sockets = self.sockets, set()
        for end in cut:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    database = connection.settings_dict
    tcp = TcpProxy(PROXY_PORT, (database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    tcp.start()
    yield tcp
    tcp.stop()


@pytest.fixture
def server(proxy: TcpProxy) -> Iterator[str]:
    database = connection.settings_dict
    credentials = quote(database["USER"]) + (
        f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "licentia.settings",
        "LICENTIA_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": f"postgres://{credentials}@127.0.0.1:{PROXY_PORT}/{database['NAME']}",
        "LOG_LEVEL": "WARNING",
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read when the server fails to start
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable, "-m", "gunicorn", "licentia.wsgi:application",
            "--bind", f"127.0.0.1:{SERVER_PORT}", "--workers", "1", "--threads", "4",
            "--no-control-socket",
        ],
        env=env,
        stdout=log,
        stderr=log,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{SERVER_PORT}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):  # noqa: S310
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                log.seek(0)
                pytest.fail(f"the server did not start:\n{log.read().decode()[-3000:]}")
            time.sleep(0.2)
    yield base_url
    process.terminate()
    process.wait(timeout=20)
    log.close()


@dataclass
class Answer:
    at: float
    call: str
    status: int
    content_type: str
    body: dict
    retry_after: str | None


@dataclass
class Run:
    base_url: str
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, path: str, body: dict) -> Answer:
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}/api/app/v1/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, error.headers, error.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")[:300]}
        answer = Answer(
            time.monotonic(),
            path,
            status,
            headers.get("Content-Type", ""),
            parsed,
            headers.get("Retry-After"),
        )
        with self.lock:
            self.answers.append(answer)
        return answer


def application(run: Run, key: str, unit: int, stop: threading.Event) -> None:
    """One protected application: holds its seat (capture, heartbeat) and spends tokens, each
    consumption repeated under its idempotency key until it is answered."""
    consumed = 0
    session_id = None
    while not stop.is_set():
        if session_id is None:
            captured = run.call(
                "capture", {"key": key, "feature_id": 10, "user": f"u{unit}", "host": f"h{unit}"}
            )
            if captured.status == 200:
                session_id = captured.body["session_id"]
        else:
            beat = run.call("heartbeat", {"session_id": session_id})
            if beat.status == 404:
                session_id = None
        spent = run.call(
            "tokens/consume",
            {"key": key, "feature_id": 20, "amount": 1, "idempotency_key": f"{unit}-{consumed}"},
        )
        if spent.status == 200:
            consumed += 1
        time.sleep(0.02)


def test_an_outage_answers_503_json_loses_nothing_and_recovers_at_once(server: str, proxy):
    product = make_product(
        1, (10, LicenseType.USER, SEATS, False), (20, LicenseType.TOKEN, TOKENS, False)
    )
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    run = Run(server)
    stop = threading.Event()
    applications = [
        threading.Thread(target=application, args=(run, key.number, unit, stop))
        for unit in range(UNITS)
    ]
    for thread in applications:
        thread.start()

    time.sleep(1.5)
    proxy.stop()
    down_at = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    proxy.start()
    back_at = time.monotonic()
    time.sleep(3.0)
    stop.set()
    for thread in applications:
        thread.join(timeout=30)

    answers = run.answers
    outage = [answer for answer in answers if down_at + 0.3 < answer.at < back_at]
    assert outage, "no call was answered during the outage"
    assert all(answer.status == 503 for answer in outage)
    for answer in answers:
        assert answer.content_type.startswith("application/json"), answer
        if answer.status == 503:
            assert answer.body["code"] == 5030
            assert answer.retry_after == "5"
        else:
            assert (answer.status, answer.body.get("code")) in {(200, None), (409, 2008)}, answer
    for call in ("capture", "heartbeat", "tokens/consume"):
        after = [answer for answer in answers if answer.call == call and answer.at > back_at]
        recovered = min(answer.at for answer in after if answer.status != 503)
        assert recovered - back_at < RECOVERY_LIMIT_SECONDS, call
        assert all(answer.status != 503 for answer in after if answer.at > recovered), call

    license_ = run.call("license", {"key": key.number}).body
    seats = next(row for row in license_["summary"] if row["feature_id"] == 10)
    tokens = next(row for row in license_["summary"] if row["feature_id"] == 20)
    holders = {a.body["session_id"] for a in answers if a.call == "capture" and a.status == 200}
    assert seats["occupied"] == SEATS == len(holders)
    for session_id in holders:
        assert run.call("heartbeat", {"session_id": session_id}).status == 200
    answered_consumptions = {
        (a.body["balance"]) for a in answers if a.call == "tokens/consume" and a.status == 200
    }
    assert tokens["free"] == TOKENS - len(answered_consumptions)
