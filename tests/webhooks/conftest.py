import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from licentia.core.audit import Actor
from licentia.webhooks.models import Event, Webhook
from licentia.webhooks.services import webhook_create

ACTOR = Actor.system("tests")
RECEIVER_PORT = 18611
SECRET = "whsec-test-secret"


@dataclass
class Receiver:
    url: str
    failing: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [item for item in self.received if item["answered"] == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A CRM's endpoint on this machine: records every POST; answers 503 while `failing`."""
    state = Receiver(url=f"http://127.0.0.1:{RECEIVER_PORT}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = 503 if state.failing else 200
            with state.lock:
                state.received.append(
                    {
                        "headers": dict(self.headers),
                        "body": body,
                        "json": json.loads(body),
                        "answered": status,
                    }
                )
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"down")

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", RECEIVER_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook(db, receiver: Receiver) -> Webhook:
    return webhook_create(url=receiver.url, events=Event.values, actor=ACTOR, secret=SECRET)
