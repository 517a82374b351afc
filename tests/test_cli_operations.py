"""Every `licentia` command, run as an operator runs it, answers a configuration or connection
problem with one clear line and exit status 2, never a traceback."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

LICENTIA = [sys.executable, "-m", "licentia.cli"]
SECRET = "an-operator-secret-key-of-fifty-characters-or-so-123456"
# Nothing listens there: the ports given to these tests end at 18679.
UNREACHABLE = "postgres://postgres@127.0.0.1:18679/h_ops_nowhere"
COMMANDS = {
    "init": ["init"],
    "serve": ["serve", "--no-worker", "--bind", "127.0.0.1:18678"],
    "worker": ["worker"],
    "createadmin": ["createadmin", "--username", "boss"],
    "check": ["check"],
    "manage": ["manage", "showmigrations"],
    "backup": ["backup", "backups"],
    "restore": ["restore", "backup.sqlite3"],
    "move-to": ["move-to", "postgres://postgres@127.0.0.1:5432/h_ops_never_made"],
    "import": ["import", "clients.csv"],
}


def operator_env(data_dir: Path, **extra: str) -> dict[str, str]:
    dropped = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "EMAIL_URL"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    return {
        **env,
        "LICENTIA_DATA_DIR": str(data_dir),
        "SECRET_KEY": SECRET,
        "LICENTIA_ADMIN_PASSWORD": "a-long-admin-passphrase",
        **extra,
    }


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*LICENTIA, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("licentia: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("command", [name for name in COMMANDS if name != "init"])
def test_a_missing_data_directory_is_one_line_and_status_2(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "not-yet"

    result = run(COMMANDS[command], operator_env(missing), tmp_path)

    assert_one_clear_line(result, str(missing), "does not exist", "licentia init")
    assert not missing.exists()


def test_init_creates_a_missing_data_directory_readable_by_its_owner_only(tmp_path: Path) -> None:
    missing = tmp_path / "deep" / "data"

    result = run(
        ["init"],
        operator_env(missing, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(missing.stat().st_mode) == 0o700


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unreachable_database_is_one_line_and_status_2(tmp_path: Path, command: str) -> None:
    result = run(COMMANDS[command], operator_env(tmp_path, DATABASE_URL=UNREACHABLE), tmp_path)

    if command == "check":
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "127.0.0.1:18679" in result.stderr
    else:
        assert_one_clear_line(result, "h_ops_nowhere", "127.0.0.1:18679")


@pytest.mark.parametrize("url", ["foo://somewhere/db", "mysql://user@host/db"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_wrong_database_url_is_one_line_and_status_2(
    tmp_path: Path, command: str, url: str
) -> None:
    result = run(COMMANDS[command], operator_env(tmp_path, DATABASE_URL=url), tmp_path)

    if command == "check":
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "DATABASE_URL" in result.stderr
    else:
        assert_one_clear_line(result, "DATABASE_URL")


def test_check_lists_every_problem_at_once(tmp_path: Path) -> None:
    env = operator_env(tmp_path / "missing", DATABASE_URL="foo://x", EMAIL_URL="pigeon://coop")
    del env["SECRET_KEY"]

    result = run(["check"], env, tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("- ")]
    assert len(problems) == 4, result.stderr
    for words in ("does not exist", "SECRET_KEY", "DATABASE_URL", "EMAIL_URL"):
        assert any(words in line for line in problems), words


def test_check_says_all_is_in_order_after_init(tmp_path: Path) -> None:
    env = operator_env(tmp_path / "data")
    assert run(["init"], env, tmp_path).returncode == 0

    result = run(["check"], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "in order" in result.stdout
