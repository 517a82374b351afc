"""The protocol through PgBouncer in transaction mode (Debian's, started here): with
DATABASE_PREPARED_STATEMENTS=0 no statement is prepared on a server connection the next
transaction may not get, and every call succeeds."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import Session, TokenConsumption
from tests.factories import make_client, make_product
from tests.serving import call, process_env, serve

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
BOUNCER_PORT = 18662
SERVER_PORT = 18663
ACTOR = Actor.system("tests")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PgBouncer pools PostgreSQL"),
    pytest.mark.skipif(not os.path.exists(PGBOUNCER), reason="apt-get install pgbouncer"),
]


@pytest.fixture
def pgbouncer() -> Iterator[int]:
    database = connection.settings_dict
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o755)  # PgBouncer refuses to run as root: it reads these as postgres
    (folder / "users.txt").write_text(f'"{database["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={database['HOST'] or '127.0.0.1'} port={database['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {BOUNCER_PORT}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 50\n"
        "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
    )
    for path in folder.iterdir():
        path.chmod(0o644)
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    bouncer = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer, our own configuration
        [PGBOUNCER, *as_user, str(folder / "pgbouncer.ini")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(0.5)
    if bouncer.poll() is not None:
        pytest.fail(f"pgbouncer did not start: {bouncer.stdout.read().decode()}")  # type: ignore[union-attr]
    yield BOUNCER_PORT
    bouncer.terminate()
    bouncer.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


def test_the_protocol_works_through_pgbouncer_in_transaction_mode(pgbouncer: int) -> None:
    from tests.serving import database_url

    product = make_product(
        1, (10, LicenseType.USER, 4, False), (20, LicenseType.TOKEN, 1000, False)
    )
    key = license_key_generate(client=make_client(), actor=ACTOR)
    key_line_add(key=key, product=product, actor=ACTOR)
    env = process_env(DATABASE_URL=database_url(port=pgbouncer), DATABASE_PREPARED_STATEMENTS="0")
    server = serve(SERVER_PORT, env)
    base_url = f"http://127.0.0.1:{SERVER_PORT}"
    failures: list[tuple[str, int, dict]] = []
    spent = []

    def application(unit: int) -> None:
        # More than the 5 runs after which a statement would be prepared, on 4 threads
        # sharing 3 server connections.
        for round_number in range(8):
            unit_body = {"key": key.number, "feature_id": 10, "user": f"u{unit}", "host": "h"}
            status, body = call(base_url, "capture", unit_body)
            if status != 200:
                failures.append(("capture", status, body))
                continue
            for _ in range(3):
                beat = call(base_url, "heartbeat", {"session_id": body["session_id"]})
                if beat[0] != 200:
                    failures.append(("heartbeat", *beat))
            tokens = call(
                base_url,
                "tokens/consume",
                {"key": key.number, "feature_id": 20, "amount": 1,
                 "idempotency_key": f"{unit}-{round_number}"},
            )  # fmt: skip
            if tokens[0] == 200:
                spent.append(tokens[1]["balance"])
            else:
                failures.append(("tokens", *tokens))
            released = call(base_url, "release", {"session_id": body["session_id"]})
            if released[0] != 200:
                failures.append(("release", *released))

    try:
        threads = [threading.Thread(target=application, args=(unit,)) for unit in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.stop()

    assert failures == []
    assert len(spent) == len(set(spent)) == TokenConsumption.objects.count() == 32
    assert sorted(spent) == list(range(1000 - 32, 1000))
    assert Session.objects.filter(ended_at__isnull=True).count() == 0
    assert Session.objects.count() == 32
