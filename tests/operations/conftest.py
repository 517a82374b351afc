"""A second database beside the test database, to restore or move into."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

RESTORED = "restored"


def _register(alias: str, config: dict[str, Any]) -> None:
    configured = connections.configure_settings({**connections.settings, alias: config})
    connections.settings[alias] = configured[alias]


def _unregister(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections.settings[alias]
        with contextlib.suppress(AttributeError):
            delattr(connections._connections, alias)


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[dict[str, Any]]:
    """A fresh, empty PostgreSQL database on the test database's server, dropped afterwards."""
    server = dict(connection.settings_dict)
    params = {
        "host": server.get("HOST") or "127.0.0.1",
        "port": server.get("PORT") or 5432,
        "user": server.get("USER") or "postgres",
        "password": server.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**server, "NAME": name, "TEST": {}}
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restored_database(
    transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_db_blocker: Any
) -> Iterator[str]:
    """An empty database of the test database's kind, as the connection alias `restored`.
    Django's test case refuses connections to aliases it was not told of; this database is
    the test's own, so its connection opens as outside a test."""
    monkeypatch.setattr(
        BaseDatabaseWrapper, "ensure_connection", django_db_blocker._real_ensure_connection
    )
    if connection.vendor == "sqlite":
        _register(
            RESTORED,
            {**connection.settings_dict, "NAME": str(tmp_path / "restored.sqlite3"), "TEST": {}},
        )
        try:
            yield RESTORED
        finally:
            _unregister(RESTORED)
        return
    name = str(connection.settings_dict["NAME"]).removeprefix("test_")
    with postgres_database(f"{name}_restored_{os.getpid()}") as config:
        _register(RESTORED, config)
        try:
            yield RESTORED
        finally:
            _unregister(RESTORED)
