"""Tables the cabinet and the API hand out as files: CSV (UTF-8 with BOM, for Excel) and XLSX."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.replace(tzinfo=None)
    if value is None or isinstance(value, int | float | date):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def table_bytes(
    *, headers: Sequence[str], rows: Iterable[Sequence[Any]], file_format: str
) -> bytes:
    """The table as a file's bytes; `file_format` is one of FORMATS."""
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(header) for header in headers])
        for row in rows:
            writer.writerow([_csv_text(_cell(value)) for value in row])
        return buffer.getvalue().encode("utf-8-sig")
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append([str(header) for header in headers])
        for row in rows:
            sheet.append([_cell(value) for value in row])
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    raise ValueError(f"unknown table format {file_format!r}")


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def table_response(
    *, filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], file_format: str
) -> HttpResponse:
    """A download of the table named `filename` (without extension) in `file_format`."""
    response = HttpResponse(
        table_bytes(headers=headers, rows=rows, file_format=file_format),
        content_type=CONTENT_TYPES[file_format],
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response
