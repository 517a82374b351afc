"""Importing a previous service's clients (each with a legacy key and one product) beside a
plain bulk insert of the same rows.

    python bench/import_bench.py --clients 100000                       # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python bench/import_bench.py --clients 100000                   # PostgreSQL

It makes its own database (a SQLite file in a temporary folder, or a PostgreSQL database,
licentia_import_bench by default, dropped and created), migrates it, writes a CSV of N rows
(company, INN, e-mail, phone, legacy key without our check character, product, multiplier,
expiry), then times:

1. `licentia import` of the file (`import_file`: chunks of 500 rows a transaction, each
   matched with one query per kind, validated row by row, then written in bulk: the clients
   with their search index, keys, lines, an audit event for each object);
2. the same import again, which finds every row and changes nothing;
3. after deleting what it made, a plain `bulk_create` of the same clients, keys and lines
   (no matching, no validation, no search index, no audit), in batches of 2000.

The machine's load average (1, 5, 15 minutes) is printed before and after, as the figures
depend on it, and so is the CPU time of this process (on SQLite, all the work but the disk's).
"""

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import prepare_database  # noqa: E402


def rows(count: int) -> list[list[str]]:
    return [
        [
            f"ООО Клиент {n}",
            f"{7700000000 + n}",
            f"buh{n}@client{n}.ru",
            f"+7 912 {n // 10000:03d}-{n % 10000 // 100:02d}-{n % 100:02d}",
            f"OLD-{n:06d}-SRV",
            "1",
            str(1 + n % 3),
            "31.12.2030",
        ]
        for n in range(count)
    ]


HEADER = ["Компания", "ИНН", "E-mail", "Телефон", "Ключ", "Продукт", "Множитель", "Окончание"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--database", default="licentia_import_bench")
    options = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, name=options.database)
    os.environ.setdefault("SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature
    from licentia.clients.models import Client, ClientSearchToken
    from licentia.core.audit import Actor
    from licentia.core.models import AuditEvent
    from licentia.keys.models import KeyLine, LicenseKey
    from licentia.transfer.services import import_file

    call_command("migrate", verbosity=0)
    product = Product.objects.create(id=1, name_ru="Продукт 1")
    feature = Feature.objects.create(id=10, name_ru="Фича 10")
    ProductFeature.objects.create(
        product=product, feature=feature, license_type=LicenseType.USER, count=1
    )
    generated = rows(options.clients)
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";")
    writer.writerow(HEADER)
    writer.writerows(generated)
    data = text.getvalue().encode("utf-8-sig")
    actor = Actor.system("bench")
    print(f"{connection.vendor}, {options.clients} rows, {len(data) / 1e6:.1f} MB of CSV")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    started, cpu = time.perf_counter(), time.process_time()
    batch = import_file(data=data, file_name="clients.csv", actor=actor)
    first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert batch.rows_failed == 0, batch.errors[:5]
    assert (batch.clients_created, batch.keys_created, batch.lines_created) == (
        (options.clients,) * 3
    )
    print(
        f"import:             {first:8.1f} s  ({options.clients / first:,.0f} rows/s), "
        f"{first_cpu:.1f} s of this process's CPU"
    )

    started = time.perf_counter()
    again = import_file(data=data, file_name="clients.csv", actor=actor)
    second = time.perf_counter() - started
    assert (again.clients_created, again.clients_updated, again.keys_created) == (0, 0, 0)
    print(f"import again:       {second:8.1f} s  ({options.clients / second:,.0f} rows/s)")

    with transaction.atomic():
        KeyLine.objects.all().delete()
        LicenseKey.objects.all().delete()
        ClientSearchToken.objects.all().delete()
        Client.objects.all().delete()
        AuditEvent.objects.all().delete()

    started, cpu = time.perf_counter(), time.process_time()
    now = timezone.now()
    expiry = timezone.make_aware(timezone.datetime(2030, 12, 31, 23, 59, 59))
    for start in range(0, len(generated), 2000):
        chunk = generated[start : start + 2000]
        with transaction.atomic():
            clients = Client.objects.bulk_create(
                Client(company=row[0], crm_id1=row[1], email=row[2], phone=row[3]) for row in chunk
            )
            keys = LicenseKey.objects.bulk_create(
                LicenseKey(number=row[4], client=client)
                for row, client in zip(chunk, clients, strict=True)
            )
            KeyLine.objects.bulk_create(
                KeyLine(
                    key=key,
                    product=product,
                    multiplier=int(row[6]),
                    starts_at=now,
                    expires_at=expiry,
                )
                for row, key in zip(chunk, keys, strict=True)
            )
    plain, plain_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"plain bulk insert:  {plain:8.1f} s  ({options.clients / plain:,.0f} rows/s), "
        f"{plain_cpu:.1f} s of this process's CPU"
    )
    print(f"import / plain:     {first / plain:8.1f} x  (CPU: {first_cpu / plain_cpu:.1f} x)")
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
