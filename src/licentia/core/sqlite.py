"""SQLite's LIKE folds the case of ASCII letters only, so a manager's «иванов» would not find
«Иванов» in the cabinet's lists and filters (icontains). Every SQLite connection gets a LIKE
that folds the case of every letter, as PostgreSQL's UPPER() LIKE UPPER() does."""

import functools
import re
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
