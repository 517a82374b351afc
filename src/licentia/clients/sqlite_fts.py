"""On SQLite, the quick search's substring test is served by an FTS5 trigram index.

The index is an external-content FTS5 table over `clients_client.search_text`, kept in step by
triggers. SQLite's schema editor rebuilds a table for many migrations, which drops its triggers,
so they are (re)made after every migrate rather than once by a migration; when any was missing,
the index is rebuilt from the table.
"""

from typing import Any

from django.db import connections

FTS_TABLE = "clients_client_fts"
TRIGGERS = {
    "clients_client_fts_insert": """
        CREATE TRIGGER clients_client_fts_insert AFTER INSERT ON clients_client BEGIN
            INSERT INTO clients_client_fts(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    "clients_client_fts_delete": """
        CREATE TRIGGER clients_client_fts_delete AFTER DELETE ON clients_client BEGIN
            INSERT INTO clients_client_fts(clients_client_fts, rowid, search_text)
                VALUES ('delete', old.id, old.search_text);
        END""",
    "clients_client_fts_update": """
        CREATE TRIGGER clients_client_fts_update AFTER UPDATE OF search_text ON clients_client
        BEGIN
            INSERT INTO clients_client_fts(clients_client_fts, rowid, search_text)
                VALUES ('delete', old.id, old.search_text);
            INSERT INTO clients_client_fts(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}


def ensure_sqlite_fts(using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        tables = {table.name for table in connection.introspection.get_table_list(cursor)}
        if "clients_client" not in tables:
            return
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        missing = [name for name in TRIGGERS if name not in present]
        if FTS_TABLE in tables and not missing:
            return
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS clients_client_fts USING fts5("
            "search_text, content='clients_client', content_rowid='id', tokenize='trigram')"
        )
        for name in missing:
            cursor.execute(TRIGGERS[name])
        cursor.execute("INSERT INTO clients_client_fts(clients_client_fts) VALUES ('rebuild')")


def fts_phrase(term: str) -> str:
    """The term as an FTS5 phrase: with the trigram tokenizer, a substring match."""
    return '"' + term.replace('"', '""') + '"'
