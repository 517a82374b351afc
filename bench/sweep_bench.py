"""The minute sweep (`sessions_sweep`) when nothing changed: 100,000 live sessions on 50,000
keys by default, each key with one line of a product of two features; every session holds its
seat, so the sweep ends none. The median of 5 runs after an unmeasured one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/sweep_bench.py
    python bench/sweep_bench.py                                   # SQLite
    ... --keys 20000 --sessions 40000 --per-key 1                 # also time the per-key sweep

It makes its own database (licentia_bench_sweep on PostgreSQL unless --db-name, a SQLite file
otherwise). --per-key N also times N runs of the sweep it replaced (the license of every key
with open sessions recomputed, two queries per key).
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import prepare_database  # noqa: E402


def seed(keys: int, sessions: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature
    from licentia.clients.models import Client
    from licentia.core import keycodes
    from licentia.keys.models import KeyLine, LicenseKey
    from licentia.licensing.models import Session

    call_command("migrate", verbosity=0)
    product = Product.objects.create(id=1, name_ru="Конфигурация")
    for feature_id, license_type in ((10, LicenseType.USER), (20, LicenseType.HOST)):
        feature = Feature.objects.create(id=feature_id, name_ru=f"Функция {feature_id}")
        ProductFeature.objects.create(
            product=product, feature=feature, license_type=license_type, count=1000
        )
    now = timezone.now()
    batch = 5000
    for start in range(0, keys, batch):
        size = min(batch, keys - start)
        clients = Client.objects.bulk_create(
            Client(company=f"ООО Клиент {start + index}", email=f"c{start + index}@bench.ru")
            for index in range(size)
        )
        made = LicenseKey.objects.bulk_create(
            LicenseKey(number=keycodes.generate_key("DEMO"), client=client) for client in clients
        )
        KeyLine.objects.bulk_create(
            KeyLine(key=key, product=product, starts_at=now - timedelta(days=30)) for key in made
        )
    key_ids = list(LicenseKey.objects.order_by("id").values_list("id", flat=True))
    lease_end = now + timedelta(days=3650)  # held all through the runs
    for start in range(0, sessions, batch):
        rows = []
        for index in range(start, min(start + batch, sessions)):
            floating = index % 2 == 0
            rows.append(
                Session(
                    public_id=uuid.uuid4(),
                    key_id=key_ids[index % len(key_ids)],
                    feature_id=10 if floating else 20,
                    license_type=LicenseType.USER if floating else LicenseType.HOST,
                    binding="floating" if floating else "bound",
                    unit=f"unit-{index}",
                    started_at=now,
                    last_heartbeat_at=now,
                    lease_expires_at=lease_end,
                    holds_until=lease_end,
                )
            )
        Session.objects.bulk_create(rows)
    if os.environ.get("DATABASE_URL"):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def per_key_sweep() -> None:
    """The sweep as it was: every key with open sessions, its license recomputed."""
    from django.utils import timezone

    from licentia.keys.models import LicenseKey
    from licentia.keys.selectors import key_license
    from licentia.licensing.models import Session

    moment = timezone.now()
    open_sessions = Session.objects.filter(ended_at__isnull=True)
    key_ids = open_sessions.values_list("key_id", flat=True).distinct().order_by()
    for key in LicenseKey.objects.filter(pk__in=list(key_ids)):
        pools = key_license(key, moment).pools
        for session in open_sessions.filter(key=key).only("feature_id", "license_type"):
            assert session.license_type in pools.get(session.feature_id, {})


def timed(function: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=50_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-key", type=int, default=0, help="runs of the per-key sweep")
    parser.add_argument("--db-name", default="licentia_bench_sweep")
    options = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, name=options.db_name)
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    started = time.perf_counter()
    seed(options.keys, options.sessions)
    print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    from licentia.licensing.services.sweep import sessions_sweep

    swept = sessions_sweep()
    assert not any(swept.values()), swept
    times = timed(sessions_sweep, options.runs)
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(
        f"{database}: {options.sessions:,} live sessions on {options.keys:,} keys, nothing to end"
    )
    print(
        f"  sessions_sweep: median {statistics.median(times) * 1000:.0f} ms, "
        f"runs {', '.join(f'{run * 1000:.0f}' for run in times)} ms"
    )
    if options.per_key:
        old = timed(per_key_sweep, options.per_key)
        print(
            f"  per-key sweep:  median {statistics.median(old) * 1000:.0f} ms, "
            f"runs {', '.join(f'{run * 1000:.0f}' for run in old)} ms"
        )


if __name__ == "__main__":
    main()
