"""What an operator must fix before a `licentia` command can work, said in one line each.

The environment is read here without Django's settings, so that `licentia check` can list every
problem at once instead of stopping at the first the settings module raises."""

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

# The exit status of a command refused for its configuration or its database connection.
EXIT_CONFIGURATION = 2


class OperatorError(Exception):
    """A problem the operator fixes in the environment; shown as one line, exit status 2."""


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].strip()


def redacted_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable)"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def data_dir_problem(data_dir: Path) -> str | None:
    if not data_dir.exists():
        return (
            f"the data directory {data_dir} does not exist: run `licentia init` "
            "(or set LICENTIA_DATA_DIR to the directory you use)"
        )
    if not data_dir.is_dir():
        return f"the data directory {data_dir} is not a directory"
    if not os.access(data_dir, os.R_OK | os.W_OK | os.X_OK):
        return f"the data directory {data_dir} is not readable and writable by this user"
    return None


def environment_problems(data_dir: Path) -> list[str]:
    """Problems of the environment found without starting Django, all of them."""
    problems = []
    missing_dir = data_dir_problem(data_dir)
    if missing_dir:
        problems.append(missing_dir)
    from licentia.secret_key import read_secret_key_file

    debug = os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    if not os.environ.get("SECRET_KEY") and not debug:
        try:
            has_key_file = bool(read_secret_key_file(data_dir))
        except OSError:
            has_key_file = False
        if not has_key_file:
            problems.append(
                "SECRET_KEY is not set and the data directory holds no secret_key file: "
                "set SECRET_KEY or run `licentia init`"
            )
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        import dj_database_url

        try:
            engine = dj_database_url.parse(url)["ENGINE"]
        except ValueError as error:
            problems.append(f"DATABASE_URL {redacted_url(url)} cannot be read: {first_line(error)}")
        else:
            if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
                problems.append(
                    f"DATABASE_URL names an unsupported database ({engine}); "
                    "use sqlite:///path or postgres://user@host:port/name"
                )
    email_url = os.environ.get("EMAIL_URL", "").strip()
    if email_url and urlsplit(email_url).scheme not in {"smtp", "smtps", "smtp+tls", "console"}:
        problems.append(
            f"EMAIL_URL scheme {urlsplit(email_url).scheme!r} is not supported; use smtp://, "
            "smtp+tls://, smtps:// or console://"
        )
    return problems


def database_problem(alias: str = "default") -> str | None:
    """Whether the database answers, as one line."""
    from django.db import DatabaseError, connections

    try:
        connections[alias].ensure_connection()
    except DatabaseError as error:
        return database_error_line(error, alias=alias)
    return None


def database_error_line(error: BaseException, *, alias: str = "default") -> str:
    from django.db import connections

    config = connections.settings.get(alias, {})
    engine = str(config.get("ENGINE", ""))
    if engine.endswith("sqlite3"):
        where = f"the SQLite database {config.get('NAME')}"
    else:
        where = (
            f"the PostgreSQL database {config.get('NAME')} at "
            f"{config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}"
        )
    return f"cannot use {where}: {first_line(error)}"


def tool_version(tool: str) -> int | None:
    """The major version of a PostgreSQL client tool on PATH, or None when it is missing."""
    path = shutil.which(tool)
    if path is None:
        return None
    output = subprocess.run(  # noqa: S603 - a tool found on PATH, no shell
        [path, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    for word in output.split():
        head = word.split(".")[0]
        if head.isdigit():
            return int(head)
    return None


def postgres_tools_problem(alias: str = "default") -> str | None:
    """pg_dump and pg_restore must be there and not older than the server they work on."""
    from django.db import connections

    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    server = int(getattr(connection, "pg_version", 0)) // 10000
    for tool in ("pg_dump", "pg_restore"):
        version = tool_version(tool)
        if version is None:
            return (
                f"{tool} is not installed: install the PostgreSQL client tools of version "
                f"{server} (Debian: postgresql-client-{server})"
            )
        if version < server:
            return (
                f"{tool} is version {version}, older than the PostgreSQL server ({server}): "
                f"install postgresql-client-{server}"
            )
    return None
