"""SQLite's LIKE folds the case of ASCII letters only, so a manager's «иванов» would not find
«Иванов» in the cabinet's lists and filters (icontains). Every SQLite connection gets a LIKE
that folds the case of every letter, as PostgreSQL's UPPER() LIKE UPPER() does."""

import contextlib
import functools
import os
import re
from pathlib import Path
from typing import Any

from django.db.backends.signals import connection_created


@functools.lru_cache(maxsize=512)
def _pattern(like: str, escape: str | None) -> re.Pattern[str]:
    parts = []
    characters = iter(like)
    for character in characters:
        if escape and character == escape:
            parts.append(re.escape(next(characters, "")))
        elif character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _like(pattern: str | None, value: Any, escape: str | None = None) -> bool | None:
    if pattern is None or value is None:
        return None
    return _pattern(pattern, escape).fullmatch(str(value)) is not None


def _install(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("like", 2, _like, deterministic=True)
        connection.connection.create_function("like", 3, _like, deterministic=True)


def install_unicode_like() -> None:
    connection_created.connect(_install, dispatch_uid="licentia.sqlite_unicode_like")


def keep_private(database: dict[str, Any]) -> None:
    """A SQLite database is its owner's alone: its directory, when Licentia makes it, is 0700,
    and its files 0600. The file is created before SQLite opens it, since SQLite gives its
    -wal and -shm files the database's own mode. A directory that exists is left as it is: it
    may be the working directory's `var`, /var itself."""
    name = str(database.get("NAME") or "")
    if database["ENGINE"] != "django.db.backends.sqlite3" or name.startswith((":", "file:")):
        return
    path = Path(name)
    if not path.exists():
        # Only a file that is not there yet is made: a user who may only read an existing
        # database (`licentia check`) still starts.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            file.chmod(0o600)
