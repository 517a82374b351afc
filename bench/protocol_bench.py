"""The application protocol under load: capture → heartbeat → release cycles against
gunicorn, measured with wrk beside the same server's trivial endpoint (/healthz, one SELECT 1).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/protocol_bench.py
    python bench/protocol_bench.py                       # SQLite

It makes its own database (licentia_bench_protocol on PostgreSQL, a SQLite file otherwise),
generates a catalog and 1000 keys with room for every unit, starts `licentia serve` on a free
port, runs wrk with 64 connections for each workload, and prints one line of figures each.
Needs wrk (apt-get install wrk).
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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
    return [key.number for key in keys]


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


def wrk(url: str, script: str, options: argparse.Namespace, *args: str) -> dict[str, float]:
    command = [
        "wrk",
        f"-t{options.wrk_threads}",
        f"-c{options.connections}",
        f"-d{options.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / script),
        url,
    ]
    if args:
        command += ["--", *args]
    run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if run.returncode != 0:
        raise SystemExit(f"wrk failed: {run.stderr or run.stdout}")
    for line in run.stdout.splitlines():
        if line.startswith("first refusal: "):
            print(line, file=sys.stderr)
    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["per_second"] = result["requests"] / result["seconds"]
    return result


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median rate."""
    return sorted(runs, key=lambda run: run["per_second"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per workload")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating runs of each workload; medians shown"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn processes (as serve)"
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="threads each (as serve)"
    )
    parser.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="each connection waits a random 0–2× this before each call (0: calls at once, "
        "the server saturated); latency at a load below saturation",
    )
    options = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, name="licentia_bench_protocol")
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    keys = seed()
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"

    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "licentia.cli",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--threads",
            str(options.threads),
            "--no-worker",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    base = f"http://127.0.0.1:{port}"
    trivial_runs, cycle_runs = [], []
    try:
        wait_for(f"{base}/healthz")
        keys_file = data_dir / "keys.txt"
        keys_file.write_text("\n".join(keys) + "\n")
        # Alternating rounds, so that a slow moment of the machine does not fall on one
        # workload only.
        for round_number in range(options.rounds):
            think = str(options.think_ms)
            trivial_runs.append(wrk(f"{base}/healthz", "plain.lua", options, think))
            cycle_runs.append(
                wrk(base, "protocol.lua", options, str(keys_file), str(round_number + 7), think)
            )
    finally:
        server.terminate()
        server.wait(30)
    trivial, cycles = median_run(trivial_runs), median_run(cycle_runs)

    print(
        f"{database}: {options.connections} connections, {options.rounds} alternating rounds of "
        f"{options.duration} s (median shown), think time {options.think_ms} ms, gunicorn "
        f"{options.workers}×{options.threads}, {os.cpu_count()} CPUs shared with wrk and the DB"
    )
    print(
        f"  /healthz                   {trivial['per_second']:8.0f} req/s  p50 "
        f"{trivial['p50_ms']:6.1f} ms  p99 {trivial['p99_ms']:6.1f} ms  "
        f"errors {trivial['errors']:.0f}"
    )
    print(
        f"  capture/heartbeat/release  {cycles['per_second']:8.0f} req/s  p50 "
        f"{cycles['p50_ms']:6.1f} ms  p99 {cycles['p99_ms']:6.1f} ms  "
        f"cycles {cycles['cycles'] / cycles['seconds']:.0f}/s  refused {cycles['refused']:.0f}"
    )
    ratios = [
        c["per_second"] / t["per_second"] for t, c in zip(trivial_runs, cycle_runs, strict=True)
    ]
    print(
        f"  protocol rate / trivial rate: {cycles['per_second'] / trivial['per_second']:.0%} "
        f"(per round: {', '.join(f'{ratio:.0%}' for ratio in ratios)})"
    )


if __name__ == "__main__":
    main()
