"""Two `licentia serve` instances and two workers on one PostgreSQL, as docs/scaling.md lays
them out: applications calling either instance never get more seats than the key has, every
answered token consumption is in the ledger once, and each periodic task is enqueued once."""

import threading
import time
from datetime import datetime

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import Session, TokenConsumption
from licentia.scheduler import periodic_tasks
from tests.factories import make_client, make_product
from tests.serving import Process, call, process_env, serve, wait_healthy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="instances share a PostgreSQL server"
    ),
]

PORTS = (18664, 18665)
SEATS = 3
UNITS = 8
TOKENS = 10_000
ACTOR = Actor.system("tests")


def most_held_at_once(sessions: list[tuple[datetime, datetime | None]]) -> int:
    """The largest number of the sessions open at one moment (an end frees the seat before a
    start at the same moment takes it)."""
    events = sorted(
        [(start, 1) for start, _end in sessions]
        + [(end, -1) for _start, end in sessions if end is not None]
    )
    held = most = 0
    for _moment, change in events:
        held += change
        most = max(most, held)
    return most


def test_two_instances_and_two_workers_oversell_no_seat_lose_no_token_and_run_tasks_once():
    product = make_product(
        1, (10, LicenseType.USER, SEATS, False), (20, LicenseType.TOKEN, TOKENS, False)
    )
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    env = process_env()
    servers = [serve(port, env, wait=False) for port in PORTS]
    workers: list[Process] = []
    try:
        for port, server in zip(PORTS, servers, strict=True):
            wait_healthy(port, server)
        workers = [Process(["worker"], env) for _ in range(2)]
        balances: list[int] = []
        refusals: list[tuple[int, dict]] = []

        def application(unit: int) -> None:
            for round_number in range(6):
                base_url = f"http://127.0.0.1:{PORTS[(unit + round_number) % 2]}"
                body = {"key": key.number, "feature_id": 10, "user": f"u{unit}", "host": "h"}
                status, captured = call(base_url, "capture", body)
                spent = call(
                    base_url,
                    "tokens/consume",
                    {"key": key.number, "feature_id": 20, "amount": 1,
                     "idempotency_key": f"{unit}-{round_number}"},
                )  # fmt: skip
                if spent[0] == 200:
                    balances.append(spent[1]["balance"])
                else:
                    refusals.append(spent)
                if status != 200:
                    if (status, captured.get("code")) != (409, 2008):
                        refusals.append((status, captured))
                    continue
                other = f"http://127.0.0.1:{PORTS[(unit + round_number + 1) % 2]}"
                call(other, "heartbeat", {"session_id": captured["session_id"]})
                call(base_url, "release", {"session_id": captured["session_id"]})

        threads = [threading.Thread(target=application, args=(unit,)) for unit in range(UNITS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        # The workers have had their first look at the schedule by now.
        deadline = time.monotonic() + 30
        expected = sorted(periodic.task.module_path for periodic in periodic_tasks())
        while time.monotonic() < deadline:
            enqueued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
            if set(enqueued) >= set(expected):
                break
            time.sleep(0.5)
        time.sleep(3)  # a second copy, were there one, would be enqueued by now
        enqueued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    finally:
        for process in [*workers, *servers]:
            process.stop()

    assert refusals == []
    sessions = list(Session.objects.filter(key=key).values_list("started_at", "ended_at"))
    assert sum(1 for _start, end in sessions if end is not None) >= SEATS
    assert most_held_at_once(sessions) <= SEATS
    assert len(balances) == UNITS * 6 == TokenConsumption.objects.count()
    assert sorted(balances) == list(range(TOKENS - UNITS * 6, TOKENS))
    assert enqueued == expected
