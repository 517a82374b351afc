"""Copying every row of the current database into an empty PostgreSQL database (`move-to`),
and the per-table counts and checksums that prove two databases hold the same rows."""

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import dj_database_url
from django.apps import apps
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor

from licentia.core.preflight import OperatorError, database_error_line, redacted_url

TARGET_ALIAS = "move_target"
BATCH_ROWS = 2000
_MODULUS = 1 << 256

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


def copied_models() -> list[type[models.Model]]:
    """Every table Django manages (many-to-many tables included), those referred to before
    those referring to them."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()

    def place(model: type[models.Model], path: frozenset[type[models.Model]]) -> None:
        if model in placed or model in path:
            return
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if isinstance(target, type) and target is not model and target in found:
                place(target, path | {model})
        placed.add(model)
        ordered.append(model)

    for model in sorted(found, key=lambda model: model._meta.db_table):
        place(model, frozenset())
    return ordered


def _normal(value: Any) -> str:
    """A value as one text, the same whichever database it was read from."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=True)
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def _rows(model: type[models.Model], alias: str, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The model's rows in batches, by primary key, each as the values of its concrete fields
    (primary key first)."""
    names = [field.attname for field in model._meta.concrete_fields]
    pk_name = model._meta.pk.attname
    if names[0] != pk_name:
        names.remove(pk_name)
        names.insert(0, pk_name)
    manager = model._base_manager.using(alias)
    last = None
    while True:
        query = manager.order_by(pk_name)
        if last is not None:
            query = query.filter(**{f"{pk_name}__gt": last})
        rows = list(query.values_list(*names)[:batch])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _field_order(model: type[models.Model]) -> list[models.Field]:
    fields = list(model._meta.concrete_fields)
    fields.sort(key=lambda field: field is not model._meta.pk)
    return fields


def table_sums(alias: str = "default", *, batch: int = BATCH_ROWS) -> dict[str, TableSum]:
    """Per table: rows, and a checksum of their values that does not depend on their order."""
    sums = {}
    for model in copied_models():
        count, total = 0, 0
        for rows in _rows(model, alias, batch):
            for row in rows:
                digest = hashlib.sha256("\x1f".join(map(_normal, row)).encode()).digest()
                total = (total + int.from_bytes(digest)) % _MODULUS
            count += len(rows)
        sums[model._meta.db_table] = TableSum(rows=count, checksum=f"{total:064x}")
    return sums


def target_register(url: str) -> dict[str, Any]:
    """The database URL as a connection named TARGET_ALIAS; only PostgreSQL is a target."""
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as error:
        raise OperatorError(f"{redacted_url(url)} cannot be read: {error}") from None
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise OperatorError(
            f"{redacted_url(url)} is not a PostgreSQL database: move-to copies into "
            "postgres://user@host:port/name"
        )
    config.setdefault("OPTIONS", {})
    configured = connections.configure_settings({**connections.settings, TARGET_ALIAS: config})
    connections.settings[TARGET_ALIAS] = configured[TARGET_ALIAS]
    connection = connections[TARGET_ALIAS]
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        raise OperatorError(database_error_line(error, alias=TARGET_ALIAS)) from None
    return dict(connection.settings_dict)


def _source_is_migrated() -> None:
    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise OperatorError(
            f"the current database has {len(plan)} migrations to apply: run `licentia init` first"
        )


def _target_is_empty() -> None:
    connection = connections[TARGET_ALIAS]
    with connection.cursor() as cursor:
        for model in (
            apps.get_model("core", "User"),
            apps.get_model("clients", "Client"),
            apps.get_model("keys", "LicenseKey"),
        ):
            table = model._meta.db_table
            if table not in connection.introspection.table_names(cursor):
                continue
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
            if cursor.fetchone():
                raise OperatorError(
                    f"the target database already holds data ({table}): move into an empty database"
                )


def _target_migrate(url: str) -> None:
    """The target gets the schema from a process of its own, whose default database it is, so
    that what `migrate` writes lands in the target only."""
    result = subprocess.run(
        [sys.executable, "-m", "licentia.cli", "manage", "migrate", "--no-input", "-v", "0"],
        env={**__import__("os").environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise OperatorError(f"migrating the target failed: {lines[-1] if lines else '?'}")


def _insert_sql(model: type[models.Model], target: Any) -> str:
    quote = target.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _field_order(model))
    marks = ", ".join(["%s"] * len(model._meta.concrete_fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608


def database_copy(*, url: str, progress: Progress | None = None, batch: int = BATCH_ROWS) -> None:
    """Copies every row of the current database into the empty PostgreSQL database `url`."""
    _source_is_migrated()
    target_register(url)
    _target_is_empty()
    connections[TARGET_ALIAS].close()
    _target_migrate(url)
    target = connections[TARGET_ALIAS]
    chosen = copied_models()
    totals = {model: model._base_manager.using("default").count() for model in chosen}
    quote = target.ops.quote_name
    with transaction.atomic(using=TARGET_ALIAS), target.cursor() as cursor:
        # What migrate wrote (content types, permissions, roles, a fresh signing key) goes:
        # the copy brings the current database's own.
        tables = ", ".join(quote(model._meta.db_table) for model in chosen)
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        for model in chosen:
            fields = _field_order(model)
            sql = _insert_sql(model, target)
            done = 0
            if progress:
                progress(model._meta.db_table, done, totals[model])
            for rows in _rows(model, "default", batch):
                prepared = [
                    [
                        field.get_db_prep_save(value, connection=target)
                        for field, value in zip(fields, row, strict=True)
                    ]
                    for row in rows
                ]
                cursor.executemany(sql, prepared)
                done += len(rows)
                if progress:
                    progress(model._meta.db_table, done, totals[model])
        for statement in target.ops.sequence_reset_sql(no_style(), chosen):
            cursor.execute(statement)


def sums_compare(source: dict[str, TableSum], target: dict[str, TableSum]) -> list[str]:
    """The tables whose counts or checksums differ, as lines."""
    differences = []
    for table in sorted(source.keys() | target.keys()):
        mine, theirs = source.get(table), target.get(table)
        if mine != theirs:
            differences.append(
                f"{table}: {mine.rows if mine else '-'} rows here, "
                f"{theirs.rows if theirs else '-'} there"
                + (" (checksums differ)" if mine and theirs and mine.rows == theirs.rows else "")
            )
    return differences
