"""Backups of the whole database, taken while the server runs, and their restoration.

SQLite is copied through SQLite's online backup (one read transaction, so the copy is the
database as it was at one instant, whatever is written meanwhile); PostgreSQL through `pg_dump`
in its custom format, with the server's own connection settings. The file's name says when it
was taken and which schema it holds. The vendor's signing key travels inside, sealed with
SECRET_KEY as it is stored; a restore first checks that this SECRET_KEY opens it."""

import hashlib
import os
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from licentia.core.preflight import OperatorError, first_line, postgres_tools_problem
from licentia.core.signing import SigningKeyUnavailableError, load_private_key

SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
FILE_PREFIX = "licentia-"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_POSTGRES_MAGIC = b"PGDMP"
# Tables that say whether a database holds a vendor's data, not only what `migrate` puts in.
_DATA_TABLES = ("core_user", "clients_client", "keys_licensekey")


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    schema: str
    engine: str


def schema_version(alias: str = "default") -> str:
    """The applied migrations as a count and a short digest, e.g. 61-3fa2c0d1."""
    applied = sorted(
        f"{app}.{name}" for app, name in MigrationRecorder(connections[alias]).applied_migrations()
    )
    digest = hashlib.sha256("\n".join(applied).encode()).hexdigest()[:8]
    return f"{len(applied)}-{digest}"


def backup_file_name(*, engine: str, schema: str, at: datetime) -> str:
    suffix = POSTGRES_SUFFIX if engine == "postgresql" else SQLITE_SUFFIX
    return f"{FILE_PREFIX}{at.astimezone(UTC):%Y%m%d-%H%M%S}Z-schema-{schema}{suffix}"


def _target_path(destination: Path, name: str) -> Path:
    """A directory (existing, or named without a backup suffix) gets the named file inside;
    a path ending in a backup suffix is the file itself."""
    if destination.suffix in {SQLITE_SUFFIX, POSTGRES_SUFFIX} and not destination.is_dir():
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return destination
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = destination / name
    # Two backups within a second are two files.
    stem, suffix, number = path.stem, path.suffix, 1
    while path.exists():
        number += 1
        path = destination / f"{stem}-{number}{suffix}"
    return path


def backup_write(*, destination: Path, alias: str = "default") -> Backup:
    """A consistent copy of the database in `destination` (a directory, or a file name)."""
    connection = connections[alias]
    connection.ensure_connection()
    schema = schema_version(alias)
    name = backup_file_name(engine=connection.vendor, schema=schema, at=datetime.now(UTC))
    try:
        path = _target_path(destination, name)
    except OSError as error:
        raise OperatorError(f"cannot write into {destination}: {error}") from None
    # Written beside its final name, then renamed: a half-written backup never looks complete.
    descriptor, temporary_name = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        if connection.vendor == "sqlite":
            _sqlite_backup(Path(connection.settings_dict["NAME"]), temporary)
        else:
            _pg_dump(alias, temporary)
        temporary.chmod(0o600)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return Backup(path=path, size=path.stat().st_size, schema=schema, engine=connection.vendor)


def _sqlite_backup(source: Path, target: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=20)
    writer = sqlite3.connect(target)
    try:
        # All pages in one step: one read transaction, one instant of the database.
        reader.backup(writer, pages=-1)
        writer.execute("PRAGMA journal_mode=DELETE")
    finally:
        writer.close()
        reader.close()


def pg_environment(config: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for the database Django's settings describe."""
    env = dict(os.environ)
    for setting, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if config.get(setting):
            env[variable] = str(config[setting])
    options = config.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            env[variable] = str(options[option])
    return env


def _run_tool(args: list[str], config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, arguments as a list
        args, env=pg_environment(config), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise OperatorError(f"{args[0]} failed: {lines[-1] if lines else result.returncode}")
    return result


def _pg_dump(alias: str, target: Path) -> None:
    problem = postgres_tools_problem(alias)
    if problem:
        raise OperatorError(problem)
    _run_tool(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(target)],
        connections[alias].settings_dict,
    )


def backup_engine(path: Path) -> str:
    """postgresql or sqlite, by the file's first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise OperatorError(f"cannot read the backup {path}: {error.strerror}") from None
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_POSTGRES_MAGIC):
        return "postgresql"
    raise OperatorError(f"{path} is not a Licentia backup (neither SQLite nor pg_dump custom)")


def _sealed_signing_key(path: Path, engine: str) -> tuple[str, str] | None:
    """(public key, sealed private key) as stored in the backup, or None when it holds none."""
    if engine == "sqlite":
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = reader.execute(
                "SELECT signing_public_key, signing_private_key_encrypted "
                "FROM core_vendorsettings WHERE id = 1"
            ).fetchone()
        except sqlite3.DatabaseError:
            return None
        finally:
            reader.close()
        return (row[0], row[1]) if row and row[0] else None
    listing = subprocess.run(  # noqa: S603 - pg_restore reading a file, no database
        ["pg_restore", "--data-only", "--table=core_vendorsettings", "-f", "-", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    columns: list[str] = []
    for line in listing.splitlines():
        if line.startswith("COPY ") and "core_vendorsettings" in line:
            columns = [
                name.strip().strip('"') for name in line.split("(", 1)[1].split(")")[0].split(",")
            ]
            continue
        if columns and line != "\\.":
            values = dict(zip(columns, line.split("\t"), strict=False))
            public = values.get("signing_public_key", "")
            return (public, values.get("signing_private_key_encrypted", "")) if public else None
        if columns:
            break
    return None


def signing_key_check(path: Path, engine: str) -> None:
    """Refuses a backup whose signing key this SECRET_KEY (with its fallbacks) cannot open."""
    sealed = _sealed_signing_key(path, engine)
    if sealed is None:
        return
    try:
        load_private_key(public_key_b64=sealed[0], encrypted=sealed[1])
    except SigningKeyUnavailableError:
        raise OperatorError(
            "the backup's signing key was sealed with another SECRET_KEY: set SECRET_KEY to the "
            "one the backup was taken with (or add it to SECRET_KEY_FALLBACKS), then restore"
        ) from None


def database_data_counts(alias: str = "default") -> dict[str, int]:
    """Rows in the tables that hold a vendor's data; empty when there are none of them."""
    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    counts = {}
    with connection.cursor() as cursor:
        for table in _DATA_TABLES:
            if table in existing:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                counts[table] = cursor.fetchone()[0]
    return {table: count for table, count in counts.items() if count}


def backup_restore(*, path: Path, alias: str = "default", replace: bool = False) -> str:
    """Restores the backup into the database; returns the schema version it holds."""
    engine = backup_engine(path)
    connection = connections[alias]
    if engine != connection.vendor:
        raise OperatorError(
            f"{path} is a {engine} backup and the database is {connection.vendor}: restore it "
            f"into {engine}, then move with `licentia move-to`"
        )
    signing_key_check(path, engine)
    try:
        held = database_data_counts(alias)
    except Exception as error:
        raise OperatorError(f"cannot read the database: {first_line(error)}") from None
    if held and not replace:
        summary = ", ".join(f"{table} {count}" for table, count in held.items())
        raise OperatorError(
            f"the database is not empty ({summary}): restore into an empty database, or add "
            "--replace to overwrite everything in it"
        )
    if engine == "sqlite":
        target = Path(connection.settings_dict["NAME"])
        connection.close()
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        writer = sqlite3.connect(target, timeout=20)
        try:
            reader.backup(writer, pages=-1)
            writer.execute("PRAGMA journal_mode=WAL")
        finally:
            writer.close()
            reader.close()
    else:
        _pg_tables_drop(alias)
        problem = postgres_tools_problem(alias)
        if problem:
            raise OperatorError(problem)
        connection.close()
        _run_tool(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "-d",
                str(connection.settings_dict["NAME"]),
                str(path),
            ],
            connection.settings_dict,
        )
    connection.close()
    return schema_version(alias)


def _pg_tables_drop(alias: str) -> None:
    """Every table, view and sequence of the current schema, dropped (restore --replace)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relkind IN ('r', 'v', 'S', 'p')"
        )
        rows = cursor.fetchall()
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "S": "SEQUENCE"}
        for relkind in ("v", "r", "p", "S"):
            for name, kind in rows:
                if kind == relkind:
                    cursor.execute(
                        f"DROP {kinds[kind]} IF EXISTS {connection.ops.quote_name(name)} CASCADE"
                    )
    if not connection.get_autocommit():
        connection.commit()
