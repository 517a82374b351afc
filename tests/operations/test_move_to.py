"""`licentia move-to`: a populated SQLite server moved into PostgreSQL, then serving."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.operations.conftest import postgres_database
from tests.test_cli_operations import SECRET, operator_env

pytestmark = pytest.mark.django_db
LICENTIA = [sys.executable, "-m", "licentia.cli"]

SEED = """
import django, json, os
django.setup()
from pathlib import Path
from licentia.cabinet.demo import demo_seed
from licentia.licensing.models import Session
from licentia.licensing.services.sessions import session_capture, session_release
from licentia.licensing.units import Unit
from licentia.core.models import VendorSettings
demo_seed(data_dir=Path(os.environ["LICENTIA_DATA_DIR"]))
key = Session.objects.filter(feature_id=10).order_by("id").first().key
for number in range(150):
    unit = Unit(user=f"u{number}", host="h")
    granted = session_capture(key_number=key.number, feature_id=10, unit=unit)
    session_release(session_id=granted.session.public_id)
public_key = VendorSettings.objects.get().signing_public_key
print(json.dumps({"key": key.number, "public_key": public_key}))
"""

SERVE = """
import django, json, sys
django.setup()
from django.test import Client
from licentia.licensing.models import Session
from licentia.core.models import VendorSettings
from licentia_client.certificates import verify_certificate
key = sys.argv[1]
highest = Session.objects.order_by("-id").values_list("id", flat=True).first()
http = Client()
captured = http.post("/api/app/v1/capture", {"key": key, "feature_id": 10, "user": "moved",
    "host": "pg-01"}, content_type="application/json")
body = captured.json()
beat = http.post("/api/app/v1/heartbeat", {"session_id": body["session_id"]},
    content_type="application/json")
public_key = VendorSettings.objects.get().signing_public_key
payload = verify_certificate(beat.json()["certificate"], public_key)
print(json.dumps({
    "capture": captured.status_code, "heartbeat": beat.status_code,
    "certificate_key": payload.get("key"), "public_key": public_key,
    "new_id_after_highest": Session.objects.get(public_id=body["session_id"]).id > highest,
}))
"""


def _python(script: str, env: dict[str, str], *args: str) -> dict:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, *args],
        env={**env, "DJANGO_SETTINGS_MODULE": "licentia.settings"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_populated_sqlite_server_moves_to_postgresql_and_serves_the_protocol(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    env = {**operator_env(data_dir), "ALLOWED_HOSTS": "testserver", "EMAIL_URL": "console://"}
    init = subprocess.run(  # noqa: S603
        [*LICENTIA, "init"], env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert init.returncode == 0, init.stderr
    seeded = _python(SEED, env)

    with postgres_database(f"h_ops_move_{os.getpid()}") as config:
        url = f"postgres://{config.get('USER') or 'postgres'}@{config.get('HOST') or '127.0.0.1'}"
        url += f":{config.get('PORT') or 5432}/{config['NAME']}"
        moved = subprocess.run(  # noqa: S603
            [*LICENTIA, "move-to", url],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert moved.returncode == 0, moved.stderr[-3000:]
        assert "row counts and checksums are equal" in moved.stdout
        assert f"DATABASE_URL={url}" in moved.stdout
        assert "licensing_session" in moved.stderr  # the progress, table by table

        served = _python(SERVE, {**env, "DATABASE_URL": url}, seeded["key"])
        again = subprocess.run(  # noqa: S603
            [*LICENTIA, "move-to", url], env=env, capture_output=True, text=True, check=False
        )

    assert (served["capture"], served["heartbeat"]) == (200, 200)
    assert served["certificate_key"] == seeded["key"]
    assert served["public_key"] == seeded["public_key"]
    assert served["new_id_after_highest"] is True
    assert again.returncode == 2
    assert "already holds data" in again.stderr
    assert SECRET not in moved.stdout
