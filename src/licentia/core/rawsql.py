"""Model instances from SQL written out, for the few hot queries where compiling the ORM's
equivalent costs more than running it. Values pass through the same database converters
(and come back from the same preparation) as the ORM's own, so instances are alike."""

import functools
import itertools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import InterfaceError, OperationalError, connection, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

M = TypeVar("M", bound=models.Model)
# Rows insert_many writes a statement, at most.
INSERT_ROWS = 1000


class _CheckedByUse:
    """The hot path's statement is its connection's health check: instead of a SELECT 1 before
    it (a round trip of its own, once per request), a statement that fails on a connection
    found broken (the server restarted, the pooler closed it) reconnects and runs once more.
    Not inside a transaction, whose earlier statements are lost with the connection."""

    cursor: Any
    db: Any

    def execute(self, sql: Any, params: Any | None = None) -> Any:
        try:
            return super().execute(sql, params)  # type: ignore[misc]
        except (OperationalError, InterfaceError):
            if self.db.in_atomic_block or self.db.is_usable():
                raise
            self.db.close()
            self.db.ensure_connection()
            self.cursor = psycopg.Cursor(self.db.connection)
            return super().execute(sql, params)  # type: ignore[misc]


class _Cursor(_CheckedByUse, CursorWrapper):
    pass


class _DebugCursor(_CheckedByUse, CursorDebugWrapper):
    pass


def cursor() -> Any:
    """A cursor for the hot path's SQL. On PostgreSQL it binds parameters on the server, so a
    statement run again and again is prepared once per connection instead of being parsed and
    planned each time (planning the session's join cost four times running it), and its first
    statement stands for the connection's health check (_CheckedByUse). Otherwise it is
    Django's own: the same connection checks, error classes and query log."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.health_check_done = True  # type: ignore[attr-defined]
    connection.ensure_connection()
    server_bound = psycopg.Cursor(connection.connection)
    wrapper = _DebugCursor if connection.queries_logged else _Cursor
    return wrapper(server_bound, connection)


def select_list(model: type[models.Model], alias: str | None) -> str:
    """Every column of the model, in field order, for `SELECT {select_list} FROM … alias`;
    unqualified without an alias (SQLite's RETURNING takes no qualified names)."""
    return _select_list(model, alias, connection.vendor)


@functools.cache
def _select_list(model: type[models.Model], alias: str | None, vendor: str) -> str:
    # Kept: quoting every column again cost a fifth of a heartbeat's Python time.
    quote = connection.ops.quote_name
    qualifier = f"{alias}." if alias else ""
    return ", ".join(f"{qualifier}{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[models.Model], vendor: str) -> list[tuple[int, Any, list[Any]]]:
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        own = field.get_db_converters(connection)  # type: ignore[attr-defined]
        converters = connection.ops.get_db_converters(column) + own
        if converters:
            found.append((index, column, converters))
    return found


def models_from_rows(model: type[M], rows: Iterable[Sequence[Any]], *, start: int = 0) -> list[M]:
    """Instances from rows holding select_list(model) from column `start` on."""
    width = len(model._meta.concrete_fields)
    attnames = [field.attname for field in model._meta.concrete_fields]
    converters = _converters(model, connection.vendor)
    instances = []
    for row in rows:
        values = list(row[start : start + width])
        for index, column, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], column, connection)
        instances.append(model.from_db(connection.alias, attnames, values))
    return instances


def assignments(model: type[models.Model], changes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`column = %(name)s, …` for an UPDATE … SET, and its values prepared as the ORM would."""
    quote = connection.ops.quote_name
    parts, values = [], {}
    for name, value in changes.items():
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        parts.append(f"{quote(field.column)} = %(set_{name})s")
        values[f"set_{name}"] = field.get_db_prep_save(value, connection)
    return ", ".join(parts), values


def insert(instance: models.Model) -> None:
    """INSERT … RETURNING the primary key, as instance.save() would for a new row."""
    meta = instance._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    for field in fields:
        field.pre_save(instance, add=True)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    with cursor() as insert_cursor:
        insert_cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
            f"RETURNING {quote(meta.pk.column)}",
            values,
        )
        instance.pk = insert_cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias


def insert_many(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """INSERTs of many rows of the named fields' values, prepared as the ORM would, as many rows
    a statement as the database takes parameters: for rows written by the thousand that nobody
    reads back at once (no primary keys returned, no model instances built)."""
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        fields.append(field)
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - our table and columns
        f"({', '.join(quote(field.column) for field in fields)}) VALUES "
    )
    row_placeholders = f"({', '.join(['%s'] * len(fields))})"
    per_statement = min(INSERT_ROWS, (connection.features.max_query_params or 65535) // len(fields))
    count = 0
    remaining = iter(rows)
    with connection.cursor() as insert_cursor:
        while batch := list(itertools.islice(remaining, per_statement)):
            values = [
                field.get_db_prep_save(value, connection)
                for row in batch
                for field, value in zip(fields, row, strict=True)
            ]
            insert_cursor.execute(head + ", ".join([row_placeholders] * len(batch)), values)
            count += len(batch)
    return count
