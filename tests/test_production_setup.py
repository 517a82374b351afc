"""What a production install gets: a private data directory, its own key prefix, and a
cabinet that warns while the demo prefix is still in place."""

import sqlite3
from pathlib import Path

import pytest

from licentia.core.audit import Actor
from licentia.core.services import vendor_settings_update
from licentia.keys.services import license_key_generate
from tests.factories import make_client
from tests.test_cli import clean_env, run

ACTOR = Actor.system("tests")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_init_makes_the_data_directory_and_the_database_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "licentia" / "var"

    result = run(["init"], clean_env(data_dir))

    assert result.returncode == 0, result.stderr
    assert mode(data_dir) == 0o700
    database = data_dir / "licentia.sqlite3"
    assert mode(database) == 0o600
    for sidecar in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        assert not sidecar.exists() or mode(sidecar) == 0o600


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    database = tmp_path / "licentia.sqlite3"
    database.touch(mode=0o644)

    assert run(["init"], clean_env(tmp_path)).returncode == 0

    assert mode(database) == 0o600
    assert mode(tmp_path) == 0o755  # an existing directory may be shared: it is left alone


def test_init_takes_the_key_prefix(tmp_path: Path) -> None:
    result = run(["init", "--prefix", "ACME"], clean_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "ACME" in result.stdout
    with sqlite3.connect(tmp_path / "licentia.sqlite3") as connection:
        (prefix,) = connection.execute("SELECT key_prefix FROM core_vendorsettings").fetchone()
    assert prefix == "ACME"


def test_init_refuses_a_prefix_that_is_not_four_capitals(tmp_path: Path) -> None:
    result = run(["init", "--prefix", "acme1"], clean_env(tmp_path))

    assert result.returncode != 0
    assert "--prefix" in result.stderr
    assert "DEMO" in result.stderr  # the validator's example, in the server's language


WARNING = "Префикс ключей всё ещё DEMO"


@pytest.mark.django_db
def test_the_cabinet_warns_on_every_page_while_the_prefix_is_demo_and_no_key_exists(
    manager_client,
) -> None:
    for page in ("/", "/clients/client/", "/core/vendorsettings/1/change/"):
        assert WARNING in manager_client.get(page).content.decode(), page

    license_key_generate(client=make_client(), actor=ACTOR)

    assert WARNING not in manager_client.get("/").content.decode()


@pytest.mark.django_db
def test_a_prefix_of_the_vendors_own_ends_the_warning(manager_client) -> None:
    vendor_settings_update(actor=ACTOR, key_prefix="ACME")

    assert WARNING not in manager_client.get("/").content.decode()
