"""The application protocol under load, measured with wrk beside the same server's trivial
endpoint (/healthz, one SELECT 1), for `licentia serve` and for the server it replaced
(gunicorn's threaded workers, 2×CPUs processes × 2 threads) side by side in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/protocol_bench.py
    python bench/protocol_bench.py                       # SQLite

It makes its own database (licentia_bench_protocol on PostgreSQL unless --db-name, a SQLite
file otherwise), generates a catalog and 1000 keys with room for every unit, starts each
server on its own port and runs, in alternating rounds, three loads:

- saturated: 64 connections calling without pause: /healthz, heartbeats (of seats, one per
  connection, captured before the workload starts, so that only heartbeats are measured), and
  capture → heartbeat → release cycles;
- half: the same three at a fixed arrival rate of half the server's saturated /healthz rate
  of that round, over 256 kept-alive connections;
- light: /healthz and heartbeats at 200 calls a second over 256 kept-alive connections.

Needs wrk (apt-get install wrk). The medians over rounds are printed as Markdown rows.
"""

import argparse
import contextlib
import itertools
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT / "src"))

from benchdb import prepare_database  # noqa: E402

from licentia.cli import DEFAULT_THREADS, DEFAULT_WORKERS  # noqa: E402

KEYS = 1000


def seed() -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature
    from licentia.clients.models import Client
    from licentia.core import keycodes
    from licentia.keys.models import KeyLine, LicenseKey

    call_command("migrate", verbosity=0)
    feature = Feature.objects.create(id=10, name_ru="Учёт")
    product = Product.objects.create(id=1, name_ru="Конфигурация")
    ProductFeature.objects.create(
        product=product, feature=feature, license_type=LicenseType.USER, count=1_000_000
    )
    clients = Client.objects.bulk_create(
        Client(company=f"ООО Клиент {index}", email=f"c{index}@bench.ru") for index in range(KEYS)
    )
    keys = LicenseKey.objects.bulk_create(
        LicenseKey(number=keycodes.generate_key("DEMO"), client=client) for client in clients
    )
    KeyLine.objects.bulk_create(
        KeyLine(key=key, product=product, starts_at=timezone.now()) for key in keys
    )
    # Statistics for the planner, as a server that has run for a while has them: without, the
    # plans the first connections prepare and keep are for empty tables.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return [key.number for key in keys]


def vacuum_sessions() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE licensing_session")


_units = itertools.count()


def hold_seats(base: str, keys: list[str], count: int, data_dir: Path) -> Path:
    """Captures a seat for each of `count` new units (a random key each) and writes their
    sessions to a file for heartbeat.lua: the heartbeat workload measures heartbeats only."""

    def capture(unit: int) -> str:
        seat = {"key": random.choice(keys), "feature_id": 10, "user": f"h{unit}",
                "host": f"bench-{unit % 100}", "app_version": "bench"}  # fmt: skip
        body = json.dumps(seat).encode()
        request = urllib.request.Request(  # noqa: S310 - our own local server
            f"{base}/api/app/v1/capture", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return str(json.load(answer)["session_id"])

    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(capture, [next(_units) for _ in range(count)]))
    path = data_dir / "sessions.txt"
    path.write_text("\n".join(sessions) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url}")


def wrk(url: str, script: str, options: argparse.Namespace, *args: str, **load: int) -> dict:
    connections = load.get("connections", options.connections)
    command = [
        "wrk",
        f"-t{options.wrk_threads}",
        f"-c{connections}",
        f"-d{options.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / script),
        url,
        "--",
        *args,
        str(load.get("think", 0)),
        str(load.get("rate", 0)),
        str(options.wrk_threads),
    ]
    run = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=False, cwd=BENCH
    )
    if run.returncode != 0:
        raise SystemExit(f"wrk failed: {run.stderr or run.stdout}")
    for line in run.stdout.splitlines():
        if line.startswith("first refusal: "):
            print(line, file=sys.stderr)
    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["per_second"] = result["requests"] / result["seconds"]
    return result


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    process: subprocess.Popen[bytes] | None = None
    runs: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, load: str, result: dict[str, float]) -> dict[str, float]:
        self.runs.setdefault(load, []).append(result)
        return result


def server_commands(options: argparse.Namespace, port: int) -> dict[str, list[str]]:
    bind = f"127.0.0.1:{port}"
    sizing = ["--workers", str(options.workers), "--threads", str(options.threads)]
    return {
        "serve": [sys.executable, "-m", "licentia.cli", "serve", "--bind", bind, "--no-worker",
                  *sizing],
        # What `licentia serve` ran before: gunicorn's threaded workers.
        "gunicorn": [sys.executable, "-m", "gunicorn", "licentia.wsgi:application",
                     "--bind", bind, *sizing, "--forwarded-allow-ips", "127.0.0.1",
                     "--graceful-timeout", "10", "--no-control-socket"],
    }  # fmt: skip


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds."""
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


LOADS = {
    "saturated": ("healthz", "heartbeat", "cycle"),
    "half": ("healthz", "heartbeat", "cycle"),
    "light": ("healthz", "heartbeat"),
}


def one_round(
    server: Server, options: argparse.Namespace, keys: list[str], keys_file: Path, seed: int
) -> None:
    def run(load: str, workload: str, **pacing: int) -> dict[str, float]:
        if workload == "heartbeat":
            held = hold_seats(server.base, keys, pacing.get("connections", options.connections),
                              keys_file.parent)  # fmt: skip
        # An overloaded workload leaves calls queued in the server, and dead session rows that
        # autovacuum would clean up during the next one: neither must count against it.
        vacuum_sessions()
        time.sleep(options.settle)
        if workload == "healthz":
            result = wrk(f"{server.base}/healthz", "plain.lua", options, **pacing)
        elif workload == "heartbeat":
            result = wrk(server.base, "heartbeat.lua", options, str(held), **pacing)
        else:
            result = wrk(server.base, "protocol.lua", options, str(keys_file), str(seed),
                         **pacing)  # fmt: skip
        return server.record(f"{load} {workload}", result)

    healthz_rate = 0.0
    if "saturated" in options.loads:
        for workload in LOADS["saturated"]:
            result = run("saturated", workload, think=options.think_ms)
            if workload == "healthz":
                healthz_rate = result["per_second"]
    if "half" in options.loads:
        rate = int(healthz_rate / 2) if healthz_rate else options.half_rate
        for workload in LOADS["half"]:
            run("half", workload, rate=rate, connections=options.open_connections)
    if "light" in options.loads:
        for workload in LOADS["light"]:
            run("light", workload, rate=options.light_rate, connections=options.open_connections)


def report(servers: list[Server], options: argparse.Namespace, database: str) -> None:
    print(
        f"{database}: {options.rounds} alternating rounds of {options.duration} s (medians "
        f"shown), {options.workers} processes × {options.threads} threads, {os.cpu_count()} "
        "CPUs shared with wrk and the database"
    )
    print("| server | load | workload | connections | req/s | p50 ms | p99 ms | refused/errors |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for server in servers:
        for load, workloads in LOADS.items():
            if load not in options.loads:
                continue
            connections = options.connections if load == "saturated" else options.open_connections
            for workload in workloads:
                runs = server.runs[f"{load} {workload}"]
                figures = median_of(runs)
                print(
                    f"| {server.name} | {load} | {workload} | {connections} | "
                    f"{figures['per_second']:,.0f} | {figures['p50_ms']:.1f} | "
                    f"{figures['p99_ms']:.1f} | "
                    f"{figures.get('refused', 0):.0f}/{figures['errors']:.0f} |"
                )
    if "saturated" not in options.loads:
        return
    print()
    for server in servers:
        healthz = server.runs["saturated healthz"]
        for workload in ("heartbeat", "cycle"):
            ratios = [
                run["per_second"] / trivial["per_second"]
                for trivial, run in zip(healthz, server.runs[f"saturated {workload}"], strict=True)
            ]
            print(
                f"{server.name}: saturated {workload} / healthz: "
                f"{statistics.median(ratios):.0%} (rounds: "
                f"{', '.join(f'{ratio:.0%}' for ratio in ratios)})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per workload")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians shown")
    parser.add_argument(
        "--servers", default="serve,gunicorn", help="comma-separated: serve, gunicorn"
    )
    parser.add_argument(
        "--loads", default="saturated,half,light", help="comma-separated: saturated, half, light"
    )
    parser.add_argument("--connections", type=int, default=64, help="saturated load")
    parser.add_argument(
        "--open-connections", type=int, default=256, help="kept-alive connections at a fixed rate"
    )
    parser.add_argument("--light-rate", type=int, default=200, help="calls a second, light load")
    parser.add_argument(
        "--half-rate", type=int, default=500, help="the half load's rate when not saturated first"
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--settle", type=float, default=3, help="seconds of quiet before each workload"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="processes")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads each")
    parser.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="saturated load: each connection waits a random 0–2× this before each call",
    )
    parser.add_argument("--db-name", default="licentia_bench_protocol")
    parser.add_argument(
        "--port", type=int, default=0, help="the first server's port, the next ones follow"
    )
    options = parser.parse_args()
    options.loads = options.loads.split(",")

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, name=options.db_name)
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    keys = seed()
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    keys_file = data_dir / "keys.txt"
    keys_file.write_text("\n".join(keys) + "\n")

    servers = []
    for index, name in enumerate(options.servers.split(",")):
        port = options.port + index if options.port else free_port()
        servers.append(Server(name, server_commands(options, port)[name], port))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    try:
        for server in servers:
            server.process = subprocess.Popen(server.command, env=env)  # noqa: S603
        for server in servers:
            wait_for(f"{server.base}/healthz")
        random.seed(1)
        # Alternating rounds, so that a slow moment of the machine does not fall on one
        # server or workload only.
        for round_number in range(options.rounds):
            for server in servers:
                one_round(server, options, keys, keys_file, round_number + 7)
    finally:
        for server in servers:
            if server.process is not None:
                server.process.terminate()
        for server in servers:
            if server.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    server.process.wait(30)
    report(servers, options, database)


if __name__ == "__main__":
    main()
