"""Real `licentia serve` and `licentia worker` processes for tests, on the test database."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import IO, Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection


def database_url(*, port: int | None = None) -> str:
    """The test database's URL, reached through another port when given (a pooler)."""
    database = connection.settings_dict
    credentials = quote(database["USER"]) + (
        f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    )
    host = "127.0.0.1" if port else database["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{port or database['PORT'] or 5432}/{database['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "licentia.settings",
        "LICENTIA_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": database_url(),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


class Process:
    """A licentia command running in the background, its output kept for when it fails."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "licentia.cli", *args],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def serve(port: int, env: dict[str, str], *, threads: int = 4, wait: bool = True) -> Process:
    """`licentia serve` without its worker; answering /healthz unless told not to wait."""
    args = ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(threads)]
    server = Process([*args, "--no-worker"], env)
    if wait:
        wait_healthy(port, server)
    return server


def wait_healthy(port: int, server: Process) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                output = server.output()
                server.stop()
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.2)


def call(base_url: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POSTs to the application protocol; the status and the JSON answer."""
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/api/app/v1/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
