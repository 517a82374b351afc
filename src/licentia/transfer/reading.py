"""Reading a vendor's file (CSV or XLSX) into rows, and which column is which field."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

Cell = str | int | float | date | datetime | bool | None


@dataclass(frozen=True)
class FieldInfo:
    name: str
    label: Any
    # Headers (lower-case) that are read as this field without being mapped by hand.
    headers: tuple[str, ...]


FIELDS = (
    FieldInfo(
        "company",
        gettext_lazy("Company"),
        ("company", "компания", "организация", "клиент", "наименование"),
    ),
    FieldInfo("contact", gettext_lazy("Contact"), ("contact", "контакт", "контактное лицо")),
    FieldInfo("phone", gettext_lazy("Phone"), ("phone", "телефон")),
    FieldInfo("email", gettext_lazy("E-mail"), ("email", "e-mail", "почта", "электронная почта")),
    FieldInfo(
        "alert_email",
        gettext_lazy("E-mail for alerts"),
        ("alert_email", "alert e-mail", "почта для оповещений"),
    ),
    FieldInfo("crm_id1", gettext_lazy("CRM ID1"), ("crm_id1", "crm id1", "инн")),
    FieldInfo("crm_id2", gettext_lazy("CRM ID2"), ("crm_id2", "crm id2")),
    FieldInfo(
        "manager",
        gettext_lazy("Responsible manager (e-mail)"),
        ("manager", "manager_email", "менеджер", "ответственный"),
    ),
    FieldInfo(
        "distributor",
        gettext_lazy("Distributor (name or GUID)"),
        ("distributor", "дистрибьютор", "партнер", "партнёр"),
    ),
    FieldInfo("comment", gettext_lazy("Comment"), ("comment", "комментарий")),
    FieldInfo("language", gettext_lazy("Language (ru/en)"), ("language", "язык")),
    FieldInfo(
        "key",
        gettext_lazy("License key"),
        ("key", "license key", "ключ", "лицензионный ключ", "номер ключа"),
    ),
    FieldInfo(
        "product",
        gettext_lazy("Product (id or CRM GUID)"),
        ("product", "product_id", "продукт", "id продукта"),
    ),
    FieldInfo("multiplier", gettext_lazy("Multiplier"), ("multiplier", "множитель")),
    FieldInfo("starts", gettext_lazy("Start"), ("starts", "start", "начало", "дата начала")),
    FieldInfo(
        "expires",
        gettext_lazy("Expiry (empty: perpetual)"),
        ("expires", "expiry", "окончание", "действует до", "дата окончания"),
    ),
    FieldInfo("trial", gettext_lazy("Trial (yes/no)"), ("trial", "триал")),
)
FIELD_NAMES = {info.name for info in FIELDS}
EXTRA_PREFIX = "extra."
SKIP = ""


@dataclass
class Table:
    headers: list[str]
    # (row number in the file, the header being row 1; the row's cells)
    rows: list[tuple[int, list[Cell]]]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The file is neither UTF-8 nor Windows-1251 text."))


def _read_csv(data: bytes) -> list[list[Cell]]:
    text = _decode(data)
    sample = text[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _read_xlsx(data: bytes) -> list[list[Cell]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        message = _("The file cannot be read as XLSX: %(error)s") % {"error": error}
        raise ValidationError(message) from None
    try:
        sheet = workbook.worksheets[0]
        return [
            [
                cell if isinstance(cell, str | int | float | date | None) else str(cell)
                for cell in row
            ]
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()


def table_read(data: bytes, *, file_name: str) -> Table:
    """The file's first row as headers, the other non-empty rows as rows."""
    if file_name.lower().endswith(".xlsx") or data[:2] == b"PK":
        rows = _read_xlsx(data)
    else:
        rows = _read_csv(data)
    if not rows:
        raise ValidationError(_("The file is empty."))
    headers = [str(cell or "").strip() for cell in rows[0]]
    body = [
        (number, row)
        for number, row in enumerate(rows[1:], start=2)
        if any(cell not in (None, "") for cell in row)
    ]
    return Table(headers=headers, rows=body)


def mapping_guess(headers: list[str], extra_codes: dict[str, str]) -> dict[str, str]:
    """Column header → field, for the headers that name one (a field's name or a usual
    header, an additional field's code or label); the rest are skipped."""
    by_header = {alias: info.name for info in FIELDS for alias in (info.name, *info.headers)}
    by_header.update(
        {label.lower(): f"{EXTRA_PREFIX}{code}" for label, code in extra_codes.items()}
    )
    mapping = {}
    taken: set[str] = set()
    for header in headers:
        field = by_header.get(header.strip().lower(), SKIP)
        if field and field in taken:
            field = SKIP
        taken.add(field)
        mapping[header] = field
    return mapping


def rows_as_records(table: Table, mapping: dict[str, str]) -> Iterator[tuple[int, dict[str, Cell]]]:
    """(row number in the file, counting the header as 1; field → value) per row."""
    columns = [(index, mapping.get(header, SKIP)) for index, header in enumerate(table.headers)]
    for number, row in table.rows:
        record: dict[str, Cell] = {}
        for index, field in columns:
            if field and index < len(row):
                record[field] = row[index]
        yield number, record
