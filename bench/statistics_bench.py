# ruff: noqa: S608, E501 - SQL written out to generate the data; its lines are long
"""The statistics pages read from the rollups, against the same figures computed from the raw
tables, on a year of generated sessions; and the metrics endpoint's rate beside /healthz.

    python bench/statistics_bench.py --sessions 1000000                     # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python bench/statistics_bench.py --sessions 1000000 --database bench_stats

It makes its own database (a SQLite file in a temporary folder, or the PostgreSQL database
named by --database, dropped and created), migrates it, and writes with SQL (generate_series on
PostgreSQL, a recursive CTE on SQLite): clients and keys, sessions spread over the 365 days
before today (15 min to 8 h each, units from a pool per key), trial and purchased key lines,
refusals, coupon batches and activations, and metric observations. It then times the first
rollup (the backfill) and, for each page, the queries it runs on the rollups (--rounds times,
p50 / p95) and the same figure computed from the raw tables (--raw-rounds times).
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import prepare_database  # noqa: E402

FEATURES = (1, 2, 3, 4, 5)
PRODUCTS = (10, 20, 30)
PRODUCT_FEATURES = {10: (1, 2), 20: (2, 3, 4), 30: (1, 5)}


def _timed(function: Callable[[], Any], rounds: int) -> list[float]:
    function()  # unmeasured: the connection and the caches warm up
    timings = []
    for _round in range(rounds):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=5_000)
    parser.add_argument(
        "--reporting-keys",
        type=int,
        default=300,
        help="keys whose application sends metrics every day (3 observations a day each)",
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--raw-rounds", type=int, default=3)
    parser.add_argument("--database", default="bench_stats")
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    parser.add_argument(
        "--data-only", action="store_true", help="generate and roll up, time no page"
    )
    options = parser.parse_args()

    data_dir = Path(os.environ.get("BENCH_DATA_DIR") or tempfile.mkdtemp(prefix="licentia-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    prepare_database(
        os.environ.get("DATABASE_URL"), data_dir, name=options.database, drop=not options.reuse
    )
    os.environ.setdefault("SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as TestClient
    from django.utils import timezone

    from licentia.statistics import selectors
    from licentia.statistics.services import day_start, statistics_rollup

    postgres = connection.vendor == "postgresql"
    today = timezone.localdate()
    first_day = today - timedelta(days=365)
    start = day_start(first_day)

    def execute(sql: str, params: list[Any] | None = None) -> None:
        # A modulo is written %; the drivers read % as a placeholder unless doubled.
        sql = re.sub(r"(?<!%)%(?![s%])", "%%", sql)
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])

    def series(count: int) -> str:
        if postgres:
            return f"SELECT generate_series(0::bigint, {count - 1}::bigint) AS i"
        return (
            f"WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq "
            f"WHERE i < {count - 1}) SELECT i FROM seq"
        )

    def moment(seconds_sql: str) -> str:
        """SQL for the generated moment `seconds_sql` seconds after the first day began."""
        if postgres:
            return f"(%s::timestamptz + ({seconds_sql}) * interval '1 second')"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s + ({seconds_sql}), 'unixepoch')"

    base = start if postgres else start.timestamp()
    year_seconds = 365 * 86400

    if not options.reuse:
        call_command("migrate", verbosity=0)
        loaded = time.perf_counter()
        for feature_id in FEATURES:
            execute(
                "INSERT INTO catalog_feature (id, name_ru, name_en, retired) VALUES (%s, %s, '', %s)",
                [feature_id, f"Фича {feature_id}", False],
            )
        from licentia.catalog.models import Product
        from licentia.clients.models import Client, Distributor
        from licentia.keys.models import LicenseKey

        for product_id in PRODUCTS:
            Product.objects.create(id=product_id, name_ru=f"Продукт {product_id}")
        distributors = Distributor.objects.bulk_create(
            Distributor(name=f"Партнёр {n}") for n in range(20)
        )
        clients = Client.objects.bulk_create(
            (
                Client(
                    company=f"ООО Клиент {n}", distributor=distributors[n % 20] if n % 3 else None
                )
                for n in range(options.keys)
            ),
            batch_size=2000,
        )
        from licentia.core import keycodes

        numbers: set[str] = set()
        while len(numbers) < len(clients):
            numbers.add(keycodes.generate_key("DEMO"))
        LicenseKey.objects.bulk_create(
            (
                LicenseKey(number=number, client=client)
                for number, client in zip(numbers, clients, strict=True)
            ),
            batch_size=2000,
        )
        first_key = LicenseKey.objects.order_by("id").values_list("id", flat=True).first()
        keys = options.keys
        uuid_sql = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
        chunk = 1_000_000
        for offset in range(0, options.sessions, chunk):
            count = min(chunk, options.sessions - offset)
            started = moment(
                f"((i + {offset})::bigint * {year_seconds}) / {options.sessions}"
                if postgres
                else f"((i + {offset}) * {year_seconds}) / {options.sessions}"
            )
            ended = moment(
                f"((i + {offset})::bigint * {year_seconds}) / {options.sessions} "
                f"+ 900 + ((i * 7919) % 27900)"
                if postgres
                else f"((i + {offset}) * {year_seconds}) / {options.sessions} "
                f"+ 900 + ((i * 7919) % 27900)"
            )
            execute(
                f"""
                INSERT INTO licensing_session (public_id, key_id, feature_id, license_type,
                    binding, unit, "user", host, database, process_id, fingerprint, app_version,
                    started_at, last_heartbeat_at, lease_expires_at, holds_until, ended_at,
                    end_reason)
                SELECT {uuid_sql}, {first_key} + ((i * 2654435761) % {keys}),
                    1 + (i % {len(FEATURES)}), 'USER', 'floating',
                    'user' || ((i / 7) % 12) || '@pc', '', '', '', '', '{{}}', '',
                    {started}, {ended}, {ended}, NULL, {ended}, 'released'
                FROM ({series(count)}) AS numbers
                """,
                [base, base, base, base],
            )
        trials = options.keys * 2
        execute(
            f"""
            INSERT INTO keys_keyline (key_id, product_id, multiplier, is_trial, starts_at,
                state, used_days, trial_days_added, created_at)
            SELECT {first_key} + (i % {keys}), 10 + 10 * (i % 3), 1,
                CASE WHEN i < {trials} THEN {"true" if postgres else 1}
                     ELSE {"false" if postgres else 0} END,
                {moment(f"(i % {trials}) * {year_seconds // trials} + (CASE WHEN i < {trials} THEN 0 ELSE 86400 * (1 + i % 40) END)")},
                'active', 0, 0,
                {moment(f"(i % {trials}) * {year_seconds // trials} + (CASE WHEN i < {trials} THEN 0 ELSE 86400 * (1 + i % 40) END)")}
            FROM ({series(trials + trials // 4)}) AS numbers
            """,
            [base, base],
        )
        execute(
            f"""
            INSERT INTO licensing_problem (key_id, key_number, feature_id, unit, "user", host,
                database, code, day, first_at, last_at, count)
            SELECT {first_key} + (i % {keys}), 'BENC-' || i, 1 + (i % 5), 'u', '', '', '',
                2008, {"(%s::date + (i % 365)::int)" if postgres else "date(%s, '+' || (i % 365) || ' days')"},
                {moment("(i % 365) * 86400 + 43200")}, {moment("(i % 365) * 86400 + 43200")},
                1 + i % 4
            FROM ({series(options.keys * 4)}) AS numbers
            """,
            [first_day.isoformat(), base, base],
        )
        from licentia.coupons.models import Activation, Coupon, CouponBatch, CouponLine, Door

        batches = CouponBatch.objects.bulk_create(
            CouponBatch(kind="new_product", size=50, distributor=distributors[n % 20])
            for n in range(100)
        )
        for n, batch in enumerate(batches):
            CouponLine.objects.create(batch=batch, product_id=PRODUCTS[n % 3])
        CouponBatch.objects.update(created_at=start + timedelta(days=30))
        coupons = Coupon.objects.bulk_create(
            Coupon(code=f"BENCUPD-{n:06d}", batch=batches[n % 100]) for n in range(5000)
        )
        Activation.objects.bulk_create(
            Activation(
                coupon=coupon,
                key_id=first_key + n % keys,
                door=Door.API,
                actor_label="bench",
                activated_at=start + timedelta(days=31 + n % 330),
            )
            for n, coupon in enumerate(coupons[:2000])
        )
        # A daily routine: each reporting key sends its platform version, configuration and
        # one function's count once a day, at a moment of the day of its own.
        reporters = options.reporting_keys
        execute(
            f"""
            INSERT INTO statistics_metricobservation (key_id, feature_id, name, value, count, at,
                received_at)
            SELECT {first_key} + ((i / 3) % {reporters}), NULL,
                CASE i % 3 WHEN 0 THEN 'configuration' WHEN 1 THEN 'platform_version'
                    ELSE 'function' END,
                CASE i % 3 WHEN 0 THEN 'Конфигурация ' || (((i / 3) % {reporters}) % 7)
                    WHEN 1 THEN '8.3.2' || (((i / 3) % {reporters}) % 5)
                    ELSE 'Функция ' || ((i / 3) % 11) END,
                1 + i % 9,
                {moment(f"((i / 3) / {reporters}) * 86400 + (((i / 3) % {reporters}) * 263) % 86400")},
                {moment(f"((i / 3) / {reporters}) * 86400 + (((i / 3) % {reporters}) * 263) % 86400")}
            FROM ({series(reporters * 365 * 3)}) AS numbers
            """,
            [base, base],
        )
        if postgres:
            execute("ANALYZE")
        print(f"data written in {time.perf_counter() - loaded:.0f} s", flush=True)
    else:
        migrated = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrations applied in {time.perf_counter() - migrated:.0f} s", flush=True)
    from licentia.catalog.models import ProductFeature

    # The features of each product, which the conversions per feature read (made here on
    # --reuse too, for data written before the generator made them).
    if not ProductFeature.objects.exists():
        ProductFeature.objects.bulk_create(
            ProductFeature(
                product_id=product_id, feature_id=feature_id, license_type="USER", count=5
            )
            for product_id, feature_ids in PRODUCT_FEATURES.items()
            for feature_id in feature_ids
        )
    rolled = time.perf_counter()
    days = statistics_rollup()
    print(
        f"rollup (on new data the backfill; {days} days): {time.perf_counter() - rolled:.0f} s",
        flush=True,
    )
    if postgres:
        execute("ANALYZE")
    rolled = time.perf_counter()
    statistics_rollup()
    print(f"a run with nothing new: {(time.perf_counter() - rolled) * 1000:.0f} ms", flush=True)
    if options.data_only:
        return

    from django.db.models import Count
    from django.db.models.functions import TruncDate, TruncMonth

    from licentia.keys.models import KeyLine
    from licentia.licensing.models import Session
    from licentia.statistics.models import MetricObservation

    zone = timezone.get_current_timezone()
    last = today - timedelta(days=1)
    quarter = last - timedelta(days=89)
    products = list(PRODUCTS)

    def raw_trials() -> Any:
        return list(
            KeyLine.objects.filter(is_trial=True, created_at__gte=start)
            .annotate(month=TruncMonth("created_at", tzinfo=zone))
            .values("month", "product_id")
            .annotate(n=Count("id"))
            .order_by()
        )

    def _raw_feature_users() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT feature_id, COUNT(*) FROM (SELECT DISTINCT feature_id, key_id, unit "
                "FROM licensing_session WHERE started_at >= %s) AS used GROUP BY feature_id",
                [start],
            )
            return cursor.fetchall()

    def raw_connections() -> Any:
        return list(
            Session.objects.filter(started_at__gte=day_start(quarter))
            .annotate(day=TruncDate("started_at", tzinfo=zone))
            .values("day")
            .annotate(n=Count("id"))
            .order_by()
        )

    def raw_pivot() -> Any:
        return list(
            MetricObservation.objects.filter(name="configuration", at__gte=start)
            .annotate(month=TruncMonth("at", tzinfo=zone))
            .values("value", "month")
            .annotate(keys=Count("key_id", distinct=True))
            .order_by()
        )

    def raw_products() -> Any:
        from licentia.coupons.models import Activation

        return list(
            Activation.objects.filter(activated_at__gte=start)
            .values("coupon__batch__lines__product_id", "coupon__batch__kind")
            .annotate(n=Count("id"))
            .order_by()
        )

    def raw_conversions() -> Any:
        """The cohorts as the page computed them before their rollup: from the key lines."""
        from collections import defaultdict

        from licentia.keys.models import LineState
        from licentia.statistics.services import local_day

        purchases: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for key_id, product_id, created_at in (
            KeyLine.objects.filter(is_trial=False, created_at__gte=start)
            .exclude(state=LineState.REMOVED_BY_COUPON)
            .values_list("key_id", "product_id", "created_at")
            .iterator(chunk_size=5000)
        ):
            purchases[(key_id, product_id)].append(created_at)
        figures: dict[tuple[Any, int], list[int]] = defaultdict(lambda: [0, 0])
        for key_id, product_id, created_at in KeyLine.objects.filter(
            is_trial=True, created_at__gte=start
        ).values_list("key_id", "product_id", "created_at"):
            entry = figures[(local_day(created_at).replace(day=1), product_id)]
            entry[0] += 1
            deadline = created_at + timedelta(days=30)
            if any(created_at <= at <= deadline for at in purchases[(key_id, product_id)]):
                entry[1] += 1
        return figures

    def raw_refusals() -> Any:
        from django.db.models import Sum

        from licentia.licensing.models import Problem

        return list(
            Problem.objects.filter(day__gte=quarter)
            .values("code")
            .annotate(n=Sum("count"))
            .order_by()
        )

    pages: list[tuple[str, Callable[[], Any], Callable[[], Any] | None, str]] = [
        (
            "Новые триалы (a year by month, 3 products)",
            lambda: selectors.trials_series(
                first=first_day, last=last, period="month", product_ids=products
            ),
            raw_trials,
            "trial lines by month",
        ),
        (
            "Фичи (12 months)",
            lambda: selectors.feature_users_series(last_month=today.replace(day=1)),
            _raw_feature_users,
            "distinct (feature, key, unit) over the year's sessions",
        ),
        (
            "Конверсии (a year, within 30 days)",
            lambda: selectors.conversion_cohorts(
                first=first_day, last=last, within_days=30, product_ids=[]
            ),
            raw_conversions,
            "trials and their purchases from the key lines",
        ),
        (
            "Конверсии per feature (a year, within 30 days)",
            lambda: selectors.conversion_cohorts(
                first=first_day, last=last, within_days=30, product_ids=[], per_feature=True
            ),
            None,
            "",
        ),
        (
            "Продукты (a year)",
            lambda: (
                selectors.coupon_products(first=first_day, last=last),
                selectors.top_batches(first=first_day, last=last),
            ),
            raw_products,
            "activations by product and kind",
        ),
        (
            "Дистрибьюторы (a year)",
            lambda: selectors.distributor_ranking(first=first_day, last=last, today=today),
            None,
            "seats read from the key lines",
        ),
        (
            "Подключения (90 days, all features)",
            lambda: selectors.connections_series(first=quarter, last=last, feature_id=0),
            raw_connections,
            "sessions by day (no distinct users, no peak)",
        ),
        (
            "Отказы (90 days, all features)",
            lambda: selectors.refusals_by_reason(first=quarter, last=last, feature_id=0),
            raw_refusals,
            "refusals by code from the problems",
        ),
        (
            "Анализ метрик (configuration × month, a year)",
            lambda: selectors.pivot(
                row="configuration",
                column="month",
                measure="keys",
                filters={},
                first=first_day,
                last=last,
            ),
            raw_pivot,
            "observations of configuration by value and month",
        ),
    ]
    sessions_count = Session.objects.count()
    print(f"\n{connection.vendor}, {sessions_count:,} sessions, {options.keys:,} keys\n")
    print("| page | rollups p50 ms | rollups p95 ms | raw tables p50 ms | raw query |")
    print("| --- | ---: | ---: | ---: | --- |")
    for title, from_rollups, from_raw, what in pages:
        timings = _timed(from_rollups, options.rounds)
        raw = f"{statistics.median(_timed(from_raw, options.raw_rounds)):,.0f}" if from_raw else "—"
        print(
            f"| {title} | {statistics.median(timings):.1f} | {_p(timings, 0.95):.1f} | {raw} | {what} |",
            flush=True,
        )

    from licentia.keys.models import LicenseKey as Key

    client = TestClient()
    batch = {
        "key": Key.objects.order_by("id").values_list("number", flat=True).first(),
        "metrics": [
            {"name": "function", "value": f"Функция {n % 11}", "count": 1} for n in range(100)
        ],
    }
    from licentia.core.process_cache import ProcessCache

    ProcessCache.clear_all()
    health = _timed(lambda: client.get("/healthz"), options.rounds * 5)
    sent = _timed(
        lambda: client.post("/api/app/v1/metrics", batch, content_type="application/json"),
        options.rounds * 5,
    )
    print("\n| call (in-process, one thread) | p50 ms | p95 ms | calls/s |")
    print("| --- | ---: | ---: | ---: |")
    for title, values in (
        ("GET /healthz", health),
        ("POST /api/app/v1/metrics, 100 observations", sent),
    ):
        print(
            f"| {title} | {statistics.median(values):.1f} | {_p(values, 0.95):.1f} | "
            f"{1000 / statistics.mean(values):,.0f} |"
        )


if __name__ == "__main__":
    main()
