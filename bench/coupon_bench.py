"""A 10,000-code coupon batch beside a plain bulk insert of 10,000 rows of the same table.

    python bench/coupon_bench.py                                        # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python bench/coupon_bench.py                                    # PostgreSQL

It makes its own database (a SQLite file in a temporary folder, or a PostgreSQL database,
licentia_coupon_bench by default, dropped and created), migrates it, then times, in turns,
`coupon_batch_generate(count=10000)` (codes drawn with their check character, checked against
the stored ones, the batch, its lines and its audit event, one transaction) and a plain
`bulk_create` of 10,000 coupons whose codes were drawn beforehand, untimed. Goal: the batch within
3x of the plain insert.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import prepare_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", default="licentia_coupon_bench")
    options = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, name=options.database)
    os.environ.setdefault("SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature
    from licentia.core import keycodes
    from licentia.core.audit import Actor
    from licentia.coupons.models import Coupon, CouponBatch, CouponKind
    from licentia.coupons.services import Row, coupon_batch_generate

    call_command("migrate", verbosity=0)
    feature = Feature.objects.create(id=1, name_ru="Фича")
    product = Product.objects.create(id=1, name_ru="Продукт")
    ProductFeature.objects.create(
        product=product, feature=feature, license_type=LicenseType.USER, count=1
    )
    actor = Actor.system("bench")

    def batch() -> None:
        coupon_batch_generate(
            kind=CouponKind.NEW_PRODUCT,
            rows=[Row(product=product)],
            actor=actor,
            count=options.codes,
        )

    def plain() -> None:
        holder = CouponBatch.objects.create(kind=CouponKind.NEW_PRODUCT, size=options.codes)
        codes = {keycodes.generate_coupon("DEMO") for _n in range(options.codes)}
        started = time.perf_counter()
        with transaction.atomic():
            Coupon.objects.bulk_create(
                (Coupon(code=code, batch=holder) for code in codes), batch_size=1000
            )
        timings["plain"].append(time.perf_counter() - started)

    timings: dict[str, list[float]] = {"batch": [], "plain": []}
    batch()  # an unmeasured pass: the connection, the catalog and the code paths warm up
    for _round in range(options.rounds):
        started = time.perf_counter()
        batch()
        timings["batch"].append(time.perf_counter() - started)
        plain()

    batch_ms = statistics.median(timings["batch"]) * 1000
    plain_ms = statistics.median(timings["plain"]) * 1000
    print(f"database: {connection.vendor}, {Coupon.objects.count():,} coupons stored at the end")
    print(f"| {options.codes:,}-code batch (coupon_batch_generate) | {batch_ms:.0f} ms |")
    print(f"| plain bulk insert of {options.codes:,} coupons | {plain_ms:.0f} ms |")
    print(f"| ratio | {batch_ms / plain_ms:.2f}x (goal ≤ 3x) |")
    print("rounds, ms:", [round(t * 1000) for t in timings["batch"]], "vs", end=" ")
    print([round(t * 1000) for t in timings["plain"]])


if __name__ == "__main__":
    main()
