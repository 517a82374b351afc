"""`licentia import FILE`: the import from the command line, with a report of refused rows."""

import argparse
import sys
from pathlib import Path

from django.core.exceptions import ValidationError

from licentia.core.audit import Actor
from licentia.core.preflight import OperatorError
from licentia.transfer.models import ImportBatch
from licentia.transfer.reading import FIELDS
from licentia.transfer.services import import_file

ERRORS_SHOWN = 50


def _progress(batch: ImportBatch) -> None:
    if sys.stderr.isatty():
        end = "\n" if batch.rows_done >= batch.rows_total else ""
        print(f"\rrows {batch.rows_done}/{batch.rows_total}", end=end, file=sys.stderr, flush=True)


def import_from_command_line(options: argparse.Namespace) -> None:
    if options.fields:
        for info in FIELDS:
            print(f"{info.name:<12} {info.label}")
        print("extra.CODE   an additional client field, by its code")
        return
    path = Path(options.path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OperatorError(f"cannot read {path}: {error.strerror}") from None
    mapping = {}
    for item in options.map:
        column, sep, field = item.partition("=")
        if not sep:
            raise OperatorError(f"--map {item}: write COLUMN=FIELD (an empty FIELD skips it)")
        mapping[column] = field
    try:
        batch = import_file(
            data=data,
            file_name=path.name,
            actor=Actor.system("licentia import"),
            dry_run=options.dry_run,
            mapping=mapping,
            progress=_progress,
        )
    except ValidationError as error:
        print(f"licentia: {path}: {' '.join(error.messages)}", file=sys.stderr)
        sys.exit(1)
    verb = "would be" if batch.dry_run else "were"
    print(
        f"{batch.rows_total} rows read, {batch.rows_failed} refused. "
        f"Clients created: {batch.clients_created}, updated: {batch.clients_updated}; "
        f"keys created: {batch.keys_created}; products added: {batch.lines_created} "
        f"({verb} changed; import {batch.pk})."
    )
    for refused in batch.errors[:ERRORS_SHOWN]:
        field = f" {refused['field']}" if refused["field"] else ""
        print(f"row {refused['row']}{field}: {refused['message']}", file=sys.stderr)
    if len(batch.errors) > ERRORS_SHOWN:
        print(f"... and {len(batch.errors) - ERRORS_SHOWN} more", file=sys.stderr)
    if batch.rows_failed:
        sys.exit(1)
