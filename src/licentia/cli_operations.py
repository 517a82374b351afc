"""The operator's commands of `licentia`: check, backup, restore, move-to and import, and the
rule every command keeps: a configuration or connection problem is one line and exit status 2."""

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from licentia.core.preflight import (
    EXIT_CONFIGURATION,
    OperatorError,
    data_dir_problem,
    database_error_line,
    database_problem,
    environment_problems,
    first_line,
    postgres_tools_problem,
    redacted_url,
)


def _data_dir() -> Path:
    data_dir = Path(os.environ.get("LICENTIA_DATA_DIR", "var")).resolve()
    os.environ["LICENTIA_DATA_DIR"] = str(data_dir)
    problem = data_dir_problem(data_dir)
    if problem:
        raise OperatorError(problem)
    return data_dir


def setup_django(*, database: bool = True) -> None:
    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licentia.settings")
    try:
        import django

        django.setup()
    except ImproperlyConfigured as error:
        raise OperatorError(first_line(error)) from None
    if database:
        problem = database_problem()
        if problem:
            raise OperatorError(problem)


def run_handler(handler: Callable[[argparse.Namespace], None], options: argparse.Namespace) -> None:
    """Runs a command; a problem of configuration or connection ends it with one line on
    standard error and exit status 2."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        handler(options)
    except OperatorError as error:
        _fail(str(error))
    except ImproperlyConfigured as error:
        _fail(first_line(error))
    except Exception as error:
        from django.core.management import CommandError
        from django.db import DatabaseError

        if isinstance(error, DatabaseError):
            _fail(database_error_line(error))
        if isinstance(error, CommandError):
            # Refused as asked (a user that exists already): one line, not a traceback.
            print(f"licentia: {first_line(error)}", file=sys.stderr)
            sys.exit(1)
        raise


def _fail(message: str) -> None:
    print(f"licentia: {message}", file=sys.stderr)
    sys.exit(EXIT_CONFIGURATION)


def command_check(options: argparse.Namespace) -> None:
    """Every problem found, one a line, then exit status 2; or that all is in order."""
    data_dir = Path(os.environ.get("LICENTIA_DATA_DIR", "var")).resolve()
    os.environ["LICENTIA_DATA_DIR"] = str(data_dir)
    problems = environment_problems(data_dir)
    if not problems:
        problems = _django_problems()
    if len(problems) == 1:
        _fail(problems[0])
    if problems:
        print(f"licentia: {len(problems)} problems to fix:", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        sys.exit(EXIT_CONFIGURATION)
    print("Configuration, database and migrations are in order.")


def _django_problems() -> list[str]:
    try:
        setup_django(database=False)
    except OperatorError as error:
        return [str(error)]
    from django.core import checks
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    problems = [
        str(message).replace("\n", " ")
        for message in checks.run_checks(include_deployment_checks=False)
        if message.is_serious() and not message.is_silenced()
    ]
    unreachable = database_problem()
    if unreachable:
        return [*problems, unreachable]
    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        problems.append(f"{len(plan)} migrations are not applied: run `licentia init`")
    tools = postgres_tools_problem()
    if tools:
        problems.append(tools)
    if not plan:
        problems.extend(_signing_key_problems())
    return problems


def _signing_key_problems() -> list[str]:
    from licentia.core.models import VendorSettings
    from licentia.core.signing import SigningKeyUnavailableError, load_private_key

    found = VendorSettings.objects.filter(pk=VendorSettings.SINGLETON_PK).first()
    if found is None or not found.signing_public_key:
        return []
    try:
        load_private_key(
            public_key_b64=found.signing_public_key, encrypted=found.signing_private_key_encrypted
        )
    except SigningKeyUnavailableError as error:
        return [str(error)]
    return []


def command_backup(options: argparse.Namespace) -> None:
    _data_dir()
    setup_django()
    from licentia.core.backup_runs import backup_take

    run = backup_take(destination=Path(options.path), kind="manual")
    print(f"Backup written: {run.path} ({run.size} bytes, schema {run.schema})")


def command_restore(options: argparse.Namespace) -> None:
    _data_dir()
    setup_django()
    from licentia.core.backup import backup_restore

    schema = backup_restore(path=Path(options.path), replace=options.replace)
    print(f"Restored {options.path} (schema {schema}).")
    print("Run `licentia init` to apply any newer migrations, then start the server.")


class _ProgressBar:
    def __init__(self) -> None:
        self.interactive = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self.last < 0.2:
            return
        self.last = now
        width = 30
        filled = width if not total else int(width * done / total)
        line = f"{table:<40} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.interactive:
            print(f"\r{line}", end="\n" if finished else "", file=sys.stderr, flush=True)
        elif finished:
            print(line, file=sys.stderr)


def command_move_to(options: argparse.Namespace) -> None:
    _data_dir()
    setup_django()
    from licentia.core.dbmove import TARGET_ALIAS, database_copy, sums_compare, table_sums

    url = options.database_url
    database_copy(url=url, progress=_ProgressBar())
    print("Checking row counts and checksums...", file=sys.stderr)
    differences = sums_compare(table_sums("default"), table_sums(TARGET_ALIAS))
    if differences:
        print("licentia: the copy differs from the current database:", file=sys.stderr)
        for line in differences:
            print(f"- {line}", file=sys.stderr)
        sys.exit(1)
    print(
        "Every table was copied; row counts and checksums are equal.\n"
        "Now stop the server and the worker, set in their environment\n"
        f"    DATABASE_URL={redacted_url(url)}\n"
        "(the same SECRET_KEY as now: it opens the signing key), run `licentia check`, and start"
        " them again."
    )


def command_import(options: argparse.Namespace) -> None:
    _data_dir()
    setup_django()
    from licentia.transfer.cli import import_from_command_line

    import_from_command_line(options)


def add_commands(commands: Any) -> None:
    backup = commands.add_parser(
        "backup", help="write a consistent copy of the database while the server runs"
    )
    backup.add_argument(
        "path", help="a directory (the file is named by time and schema) or a file name"
    )
    backup.set_defaults(handler=command_backup)

    restore = commands.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("path", help="the backup file")
    restore.add_argument(
        "--replace", action="store_true", help="overwrite a database that holds data"
    )
    restore.set_defaults(handler=command_restore)

    move_to = commands.add_parser(
        "move-to", help="copy everything into an empty PostgreSQL database, then verify"
    )
    move_to.add_argument("database_url", metavar="DATABASE_URL", help="postgres://...")
    move_to.set_defaults(handler=command_move_to)

    importing = commands.add_parser(
        "import", help="import clients, keys and products from a CSV or XLSX file"
    )
    importing.add_argument("path", help="the .csv or .xlsx file")
    importing.add_argument(
        "--dry-run", action="store_true", help="check every row and report, change nothing"
    )
    importing.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read the file's COLUMN as FIELD (repeatable); see `--fields`",
    )
    importing.add_argument(
        "--fields", action="store_true", help="list the fields a column can be read as"
    )
    importing.set_defaults(handler=command_import)
