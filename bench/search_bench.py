"""Quick search over clients at scale: p50/p95 of the cabinet's search on a generated directory.

    python bench/search_bench.py --clients 100000                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python bench/search_bench.py --clients 1000000                 # PostgreSQL

It makes its own database (a SQLite file in a temporary folder, or a PostgreSQL database named
licentia_bench that it drops and creates), migrates it, generates the clients, then times what the
client list does for a query: the first page of 100 ranked results and the count of results
(counted up to the list's limit, as the list does).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import prepare_database  # noqa: E402

FORMS = ["ООО", "АО", "ИП", "ЗАО", "ПАО"]
ADJECTIVES = [
    "Северный",
    "Южный",
    "Восточный",
    "Западный",
    "Центральный",
    "Первый",
    "Новый",
    "Старый",
    "Быстрый",
    "Надёжный",
    "Золотой",
    "Серебряный",
    "Зелёный",
    "Красный",
    "Синий",
    "Белый",
    "Уральский",
    "Сибирский",
    "Волжский",
    "Балтийский",
    "Невский",
    "Донской",
    "Окский",
    "Камский",
]
NOUNS = [
    "Ветер",
    "Берег",
    "Мост",
    "Дом",
    "Сад",
    "Лес",
    "Путь",
    "Век",
    "Рассвет",
    "Горизонт",
    "Ключ",
    "Маяк",
    "Парус",
    "Кедр",
    "Дуб",
    "Клён",
    "Сокол",
    "Орёл",
    "Медведь",
    "Бобр",
    "Олень",
    "Торг",
    "Снаб",
    "Строй",
    "Сервис",
    "Логистик",
    "Трейд",
    "Софт",
    "Инвест",
    "Агро",
    "Мед",
]
FIRST_NAMES = ["Иван", "Пётр", "Анна", "Ольга", "Сергей", "Мария", "Алексей", "Елена", "Дмитрий"]
SURNAMES = [
    "Иванов",
    "Петров",
    "Сидоров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
]
COMMENTS = ["", "", "", "звонить после обеда", "бухгалтерия", "партнёр с 2019", "VIP"]
MAILBOXES = ["info", "buh", "office", "it", "director", "zakaz"]


def inn(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(9)]
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def generate(count: int, rng: random.Random) -> list[tuple]:
    from licentia.clients.models import Client
    from licentia.clients.search import client_search_tokens
    from licentia.core import keycodes
    from licentia.core.normalize import company_key, normalize_phone

    rows = []
    for index in range(count):
        company = f"{rng.choice(FORMS)} «{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}-{index}»"
        surname = rng.choice(SURNAMES)
        contact = f"{rng.choice(FIRST_NAMES)} {surname}"
        phone = f"+79{rng.randint(0, 999_999_999):09d}"
        email = f"{rng.choice(MAILBOXES)}.{index}@firm{index % 5000}.ru"
        client = Client(
            company=company,
            contact=contact,
            phone=phone,
            phone_e164=normalize_phone(phone),
            email=email,
            crm_id1=inn(rng) if rng.random() < 0.7 else "",
            crm_id2=f"1c-{index:08d}",
            comment=rng.choice(COMMENTS),
            company_key=company_key(company),
        )
        keys = [keycodes.generate_key("DEMO")] if rng.random() < 0.3 else []
        tokens = client_search_tokens(client, linked_values=keys, text_codes=set())
        rows.append((client, keys, tokens))
    return rows


def load(rows: list, batch: int = 20_000) -> None:
    """Clients and keys through the ORM, tokens in bulk (COPY on PostgreSQL), with the token
    indexes (the model's own) built once at the end."""
    from django.db import connection, transaction

    from licentia.clients.models import Client, ClientSearchToken
    from licentia.clients.search import token_is_simple
    from licentia.keys.models import LicenseKey

    token_indexes = ClientSearchToken._meta.indexes
    with connection.schema_editor() as editor:
        for index in token_indexes:
            editor.remove_index(ClientSearchToken, index)
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        with transaction.atomic():
            created = Client.objects.bulk_create([client for client, _keys, _tokens in chunk])
            LicenseKey.objects.bulk_create(
                [
                    LicenseKey(number=number, client=client)
                    for client, (_same, keys, _tokens) in zip(created, chunk, strict=True)
                    for number in keys
                ]
            )
            rows_of_tokens = [
                (client.pk, token, token_is_simple(token))
                for client, (_same, _keys, tokens) in zip(created, chunk, strict=True)
                for token in tokens
            ]
            if connection.vendor == "postgresql":
                with (
                    connection.cursor() as cursor,
                    cursor.copy(
                        "COPY clients_clientsearchtoken (client_id, token, simple) FROM STDIN"
                    ) as copy,
                ):
                    for row in rows_of_tokens:
                        copy.write_row(row)
            else:
                ClientSearchToken.objects.bulk_create(
                    [
                        ClientSearchToken(client_id=client_id, token=token, simple=simple)
                        for client_id, token, simple in rows_of_tokens
                    ],
                    batch_size=5000,
                )
    with connection.schema_editor() as editor:
        for index in token_indexes:
            editor.add_index(ClientSearchToken, index)


def queries(rows: list, rng: random.Random, per_kind: int) -> dict[str, list[str]]:
    sample = rng.sample(rows, per_kind * 2)
    with_keys = [(client, keys) for client, keys, _tokens in rows[: per_kind * 50] if keys][
        :per_kind
    ]
    with_inn = [client for client, _keys, _tokens in sample if client.crm_id1][:per_kind]
    clients = [client for client, _keys, _tokens in sample][:per_kind]

    def phone_as_typed(client) -> str:
        digits = client.phone_e164[2:]
        return rng.choice(
            [
                f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
                f"8{digits}",
                f"{digits[3:6]}-{digits[6:8]}-{digits[8:]}",
            ]
        )

    return {
        "e-mail": [client.email.upper() for client in clients],
        "INN": [client.crm_id1 for client in with_inn],
        "phone, any format": [phone_as_typed(client) for client in clients],
        "license key": [keys[0].lower().replace("-", " ") for _client, keys in with_keys],
        "company word + surname": [
            f"{client.company.split('-')[0].split('«')[1].split()[1].upper()} "
            f"{client.contact.split()[1].lower()}"
            for client in clients
        ],
        "unique company name": [
            client.company.split("«")[1].rstrip("»").lower() for client in clients
        ],
        "common word": [rng.choice(NOUNS).lower() for _ in clients],
    }


def time_query(query: str) -> tuple[float, int]:
    from licentia.clients.search import client_search
    from licentia.core.paginator import CappedCountPaginator

    started = time.perf_counter()
    paginator = CappedCountPaginator(client_search(query=query), 100)
    page = list(paginator.page(1))
    total = paginator.count
    elapsed = (time.perf_counter() - started) * 1000
    if not page:
        raise AssertionError(f"no result for {query!r}")
    return elapsed, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100, help="per kind")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: time the queries on the database a previous run with the same "
        "--clients and --seed loaded, instead of loading it again",
    )
    options = parser.parse_args()
    rng = random.Random(options.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="licentia-bench-"))
    prepare_database(os.environ.get("DATABASE_URL"), data_dir, drop=not options.reuse)
    os.environ.setdefault("SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    os.environ["DJANGO_SETTINGS_MODULE"] = "licentia.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rows = generate(options.clients, rng)
    if options.reuse:
        from licentia.clients.models import Client
        from licentia.keys.models import LicenseKey

        if Client.objects.count() != options.clients:
            raise SystemExit("--reuse: the database does not hold that many clients; load it")
        # Key numbers are drawn at random, not from the seed: the queries take the stored ones
        # (clients were loaded in order, so the n-th row is client n).
        queried = options.queries * 50
        stored: dict[int, list[str]] = {}
        for client_id, number in LicenseKey.objects.filter(client_id__lte=queried).values_list(
            "client_id", "number"
        ):
            stored.setdefault(client_id, []).append(number)
        rows[:queried] = [
            (client, stored.get(index + 1, []), tokens)
            for index, (client, _keys, tokens) in enumerate(rows[:queried])
        ]
    else:
        load(rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    how = "reused" if options.reuse else "loaded"
    print(
        f"{connection.vendor}: {options.clients:,} clients generated and {how} "
        f"in {time.perf_counter() - started:.0f} s"
    )

    kinds = queries(rows, rng, options.queries)
    # One unmeasured pass first: the figures are for a server that has been up, not one whose
    # caches are cold just after the load.
    for texts in kinds.values():
        for text in texts:
            time_query(text)
    all_times: list[float] = []
    print(f"{'query kind':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'median hits':>13}")
    for kind, texts in kinds.items():
        times, totals = [], []
        for text in texts:
            elapsed, total = time_query(text)
            times.append(elapsed)
            totals.append(total)
        all_times += times
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"{kind:<26}{statistics.median(times):>9.1f}{p95:>9.1f}{max(times):>9.1f}"
            f"{statistics.median(totals):>13,.0f}"
        )
    p95_all = statistics.quantiles(all_times, n=20)[-1]
    print(f"{'all':<26}{statistics.median(all_times):>9.1f}{p95_all:>9.1f}{max(all_times):>9.1f}")


if __name__ == "__main__":
    main()
