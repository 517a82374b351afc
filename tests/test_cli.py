"""The `licentia` command as a newcomer and an administrator run it, in real processes."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

LICENTIA = [sys.executable, "-m", "licentia.cli"]


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a newcomer: no secret key, no database URL, only a data directory."""
    dropped = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "EMAIL_URL"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    return {**env, "LICENTIA_DATA_DIR": str(data_dir), **extra}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*LICENTIA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_help_names_every_command(tmp_path: Path) -> None:
    result = run(["--help"], clean_env(tmp_path))

    assert result.returncode == 0
    for command in ("init", "serve", "worker", "createadmin", "check", "manage"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    assert "serve --demo" in result.stdout


def test_serve_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = run(["serve", "--no-worker"], clean_env(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr
    assert not (tmp_path / "licentia.sqlite3").exists()


def test_init_createadmin_and_check_prepare_a_production_server(tmp_path: Path) -> None:
    env = clean_env(tmp_path, LICENTIA_ADMIN_PASSWORD="a-long-admin-passphrase")

    init = run(["init"], env)
    assert init.returncode == 0, init.stderr
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600

    admin = run(["createadmin", "--username", "boss", "--email", "boss@vendor.ru"], env)
    assert admin.returncode == 0, admin.stderr
    assert "Created boss" in admin.stdout
    assert "a-long-admin-passphrase" not in admin.stdout

    again = run(["createadmin", "--username", "BOSS"], env)
    assert again.returncode != 0
    assert "exists already" in again.stderr

    check = run(["check"], env)
    assert check.returncode == 0, check.stderr
    assert "in order" in check.stdout


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [*LICENTIA, "serve", "--demo", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    yield f"http://127.0.0.1:{port}", process, tmp_path
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def wait_until_healthy(base_url: str) -> dict[str, str]:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:  # noqa: S310
                return dict(response.headers)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def sign_in(base_url: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/login/")
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/login/", data=form, headers={"Referer": f"{base_url}/login/"}
    )
    with opener.open(request) as response:
        return str(response.read().decode())


def test_serve_demo_starts_a_seeded_server_and_prints_a_working_login(demo_server) -> None:
    base_url, process, data_dir = demo_server
    assert process.stdout is not None
    banner = "".join(process.stdout.readline() for _ in range(8))

    assert f"{base_url}/" in banner
    username = re.search(r"Login: (\S+)", banner)
    password = re.search(r"Password: (\S+)", banner)
    assert username, banner
    assert password, banner

    wait_until_healthy(base_url)
    dashboard = sign_in(base_url, username.group(1), password.group(1))
    assert "Настройки вендора" in dashboard
    assert (data_dir / "licentia.sqlite3").exists()
    assert (data_dir / "demo-login.txt").stat().st_mode & 0o777 == 0o600

    link = re.search(rf"{re.escape(base_url)}/my/link/\S+/", banner)
    assert link, banner
    assert "anna@romashka.example" in banner
    assert "ООО «Ромашка»" in client_cabinet(link.group(0))


def client_cabinet(link: str) -> str:
    """The client cabinet's keys page, signed in through the link."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(link)
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(link, data=form, headers={"Referer": link})  # noqa: S310
    with opener.open(request) as response:
        return str(response.read().decode())
