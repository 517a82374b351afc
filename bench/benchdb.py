"""A fresh database for a benchmark: a SQLite file in the data folder, or a PostgreSQL
database of the given name, dropped and created on the server DATABASE_URL points to."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def prepare_database(
    url: str | None, data_dir: Path, *, name: str = "licentia_bench", drop: bool = True
) -> None:
    os.environ["LICENTIA_DATA_DIR"] = str(data_dir)
    if url:
        import psycopg

        if drop:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    else:
        os.environ.pop("DATABASE_URL", None)
