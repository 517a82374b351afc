"""The application as `licentia serve` runs it: an ASGI server (granian) reads every request on
its event loop, and only a request whose body has arrived whole goes to one of the process's
threads, where Django runs as under any WSGI server. A client sending its body slowly then
holds no thread and is cut off after BODY_TIMEOUT seconds (408); the threads only ever wait
for the database.

Django's own ASGI handler is not used: it would hop between the event loop and a thread at
each of the middleware that are not asynchronous, and run every request of the process on one
thread."""

import asyncio
import io
import os
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licentia.settings")

wsgi_application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after Django is set up

# Seconds a client has to send a request's body once its headers are in (the headers' own
# limit is the server's: `licentia serve` gives granian the same).
BODY_TIMEOUT = float(os.environ.get("LICENTIA_BODY_TIMEOUT", "10"))
# Threads running Django in each process (`licentia serve --threads`).
THREADS = int(os.environ.get("LICENTIA_THREADS", "2"))
# A response up to this size is sent in one message; a larger one is streamed from its thread.
WHOLE_RESPONSE = 256 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Coroutine[Any, Any, Message]]
Send = Callable[[Message], Coroutine[Any, Any, None]]

_executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="licentia")


class BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body; None when the client went away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _environ(scope: Scope, body: bytes) -> dict[str, Any]:
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else "",
        "REMOTE_PORT": str(client[1]) if client else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        if b"_" in raw_name:
            # X_Forwarded_For would read as X-Forwarded-For once in the environ: a proxy
            # that cleans the one would let the other through (gunicorn drops them too).
            continue
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            # The body is whole: its length is known, however it was sent.
            continue
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


def _respond(
    environ: dict[str, Any], send: Send, loop: asyncio.AbstractEventLoop
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes], bool]:
    """Runs Django in this thread. Returns the status, headers and the body when it is small;
    a larger body is sent from here, chunk by chunk, and the last value is then True."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None  # the legacy write(); Django never calls it

    result: Iterable[bytes] = wsgi_application(environ, start_response)
    try:
        status = int(started[0].split(" ", 1)[0])
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                   for name, value in started[1]]  # fmt: skip
        chunks: list[bytes] = []
        size = 0
        iterator: Iterator[bytes] = iter(result)
        for chunk in iterator:
            chunks.append(chunk)
            size += len(chunk)
            if size > WHOLE_RESPONSE:
                break
        else:
            return status, headers, chunks, False

        def forward(message: Message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        forward({"type": "http.response.start", "status": status, "headers": headers})
        forward({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
        for chunk in iterator:
            if chunk:
                forward({"type": "http.response.body", "body": chunk, "more_body": True})
        forward({"type": "http.response.body", "body": b""})
        return status, headers, [], True
    finally:
        # Django's request_finished (which closes or keeps the database connection) runs in
        # the thread that served the request.
        close = getattr(result, "close", None)
        if close is not None:
            close()


async def _answer(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    limit = settings.MAX_BODY_BYTES
    try:
        declared = int(dict(scope["headers"]).get(b"content-length", b"0"))
    except ValueError:
        declared = 0
    try:
        if declared > limit:
            raise BodyTooLarge
        body = await asyncio.wait_for(_read_body(receive, limit), BODY_TIMEOUT)
    except TimeoutError:
        await _answer(send, 408, f"The request's body did not arrive in {BODY_TIMEOUT:g} s.\n")
        return
    except BodyTooLarge:
        await _answer(send, 413, f"Request body too large: the limit is {limit} bytes.\n")
        return
    if body is None:
        return
    loop = asyncio.get_running_loop()
    status, headers, chunks, sent = await loop.run_in_executor(
        _executor, _respond, _environ(scope, body), send, loop
    )
    if not sent:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})
