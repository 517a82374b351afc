"""Slow clients: while N connections trickle their request bodies (a byte a second, never
finishing), how fast do /healthz and a capture from another client answer? For `licentia
serve` and the server it replaced (gunicorn's threaded workers), one after the other, on the
same database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/slow_clients_bench.py

Prints, per server, the p50, p99 and slowest of the calls, how many got no answer within 5 s,
and when the slow connections were cut off.
"""

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import prepare_database
from protocol_bench import ROOT, free_port, seed, server_commands, wait_for

from licentia.cli import DEFAULT_THREADS, DEFAULT_WORKERS


def trickle(port: int, count: int, stop: threading.Event, cut: list[float]) -> list[socket.socket]:
    """Connections that sent their headers and keep sending a byte a second of the body."""
    sockets = []
    for _ in range(count):
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(
            b"POST /api/app/v1/capture HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        sockets.append(slow)
    started = time.monotonic()

    def drip() -> None:
        alive = list(sockets)
        while alive and not stop.is_set():
            for slow in list(alive):
                try:
                    slow.sendall(b" ")
                except OSError:
                    alive.remove(slow)
                    cut.append(time.monotonic() - started)
            stop.wait(1.0)

    threading.Thread(target=drip, daemon=True).start()
    return sockets


def timed(request: urllib.request.Request | str) -> float | None:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as error:
        error.read()
    except OSError:
        return None
    return (time.monotonic() - started) * 1000


def measure(port: int, key: str, options: argparse.Namespace) -> dict[str, float]:
    stop = threading.Event()
    cut: list[float] = []
    sockets = trickle(port, options.slow, stop, cut)
    time.sleep(1)
    base = f"http://127.0.0.1:{port}"
    times: list[float | None] = []
    for index in range(options.calls):
        if sum(1 for t in times if t is None) >= 10:
            break  # ten calls unanswered: the server is frozen, no need to wait for more
        if index % 2:
            body = {"key": key, "feature_id": 10, "user": f"u{index}", "host": "bench"}
            request = urllib.request.Request(  # noqa: S310
                f"{base}/api/app/v1/capture",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            times.append(timed(request))
        else:
            times.append(timed(f"{base}/healthz"))
    deadline = time.monotonic() + options.wait_cut
    while len(cut) < len(sockets) and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for slow in sockets:
        slow.close()
    answered = sorted(t for t in times if t is not None)
    return {
        "p50": statistics.median(answered) if answered else float("nan"),
        "p99": answered[int(len(answered) * 0.99) - 1] if answered else float("nan"),
        "max": answered[-1] if answered else float("nan"),
        "unanswered": len(times) - len(answered),
        "calls": len(times),
        "cut": len(cut),
        "cut_after": statistics.median(cut) if cut else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=256, help="trickling connections")
    parser.add_argument("--calls", type=int, default=200, help="/healthz and captures, in turn")
    parser.add_argument("--wait-cut", type=float, default=20, help="seconds to wait for cut-offs")
    parser.add_argument("--servers", default="serve,gunicorn")
    parser.add_argument("--db-name", default="licentia_bench_protocol")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    options = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, name=options.db_name)
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    keys = seed()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    print(
        f"{options.slow} connections trickling bodies; {options.calls} calls (/healthz and "
        f"captures in turn); {options.workers} processes × {options.threads} threads"
    )
    print(
        "| server | p50 ms | p99 ms | slowest ms | calls with no answer in 5 s "
        "| slow ones cut off |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for index, name in enumerate(options.servers.split(",")):
        port = options.port + index if options.port else free_port()
        process = subprocess.Popen(server_commands(options, port)[name], env=env)  # noqa: S603
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            figures = measure(port, keys[index], options)
        finally:
            process.terminate()
            process.wait(30)
        cut = (
            f"{figures['cut']:.0f} after {figures['cut_after']:.0f} s"
            if figures["cut"]
            else f"none within {options.wait_cut:.0f} s"
        )
        print(
            f"| {name} | {figures['p50']:.1f} | {figures['p99']:.1f} | {figures['max']:.1f} | "
            f"{figures['unanswered']:.0f} of {figures['calls']:.0f} | {cut} |"
        )


if __name__ == "__main__":
    main()
