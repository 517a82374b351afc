"""Importing a vendor's clients, their keys (with the numbers the clients already use) and the
products in those keys from a file of its previous service.

A row is a client, optionally with a key, optionally with a product line of that key; a client
with several keys or products takes several rows. A client is matched by CRM ID1, then e-mail,
then the key's number, so that running the same file again changes nothing. Each row is applied
whole or not at all; a refused row is reported with its number and fields. A dry run does
everything and rolls it back."""

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.catalog.models import Product
from licentia.clients.models import Client, ClientFieldDefinition, Distributor
from licentia.clients.services import client_clean, client_create, client_reindex, client_update
from licentia.core import keycodes
from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.models import User
from licentia.core.moments import day_end, day_start
from licentia.core.normalize import normalize_email
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.transfer.models import ImportBatch, ImportStatus
from licentia.transfer.reading import (
    EXTRA_PREFIX,
    FIELD_NAMES,
    Cell,
    Table,
    mapping_guess,
    rows_as_records,
    table_read,
)

logger = logging.getLogger("licentia.import")
CHUNK_ROWS = 500
ERRORS_KEPT = 1000
CLIENT_TEXT = (
    *("company", "contact", "phone", "email", "alert_email"),
    *("crm_id1", "crm_id2", "comment", "language"),
)
_TRUE = {"1", "да", "yes", "true", "y", "д", "x", "+", "истина"}
_FALSE = {"", "0", "нет", "no", "false", "n", "н", "-", "ложь"}

Progress = Callable[[ImportBatch], None]


class RowRefused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class _DryRunRollback(Exception):
    pass


@dataclass
class _Counts:
    clients_created: int = 0
    clients_updated: int = 0
    keys_created: int = 0
    lines_created: int = 0


@dataclass
class _Context:
    actor: Actor
    products: dict[str, Product] = field(default_factory=dict)
    managers: dict[str, User] = field(default_factory=dict)
    distributors: dict[str, Distributor] = field(default_factory=dict)
    extra_codes: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, actor: Actor) -> "_Context":
        context = cls(actor=actor)
        for product in Product.objects.all():
            context.products[str(product.pk)] = product
            if product.crm_guid:
                context.products[product.crm_guid.strip().lower()] = product
        for user in User.objects.filter(is_active=True, is_staff=True).exclude(email=""):
            context.managers.setdefault(user.email.strip().lower(), user)
        for distributor in Distributor.objects.all():
            context.distributors.setdefault(distributor.name.strip().lower(), distributor)
            context.distributors[str(distributor.guid)] = distributor
        context.extra_codes = set(ClientFieldDefinition.objects.values_list("code", flat=True))
        return context


def extra_field_headers() -> dict[str, str]:
    """An additional field's code and labels → its code, for guessing the mapping."""
    headers = {}
    for definition in ClientFieldDefinition.objects.all():
        for label in (definition.code, definition.label_ru, definition.label_en):
            if label:
                headers[label] = definition.code
    return headers


def import_mapping_guess(table: Table) -> dict[str, str]:
    return mapping_guess(table.headers, extra_field_headers())


def mapping_clean(table: Table, mapping: dict[str, str]) -> dict[str, str]:
    """The mapping checked against the file and the fields; a ValidationError otherwise."""
    codes = set(ClientFieldDefinition.objects.values_list("code", flat=True))
    errors = []
    used: set[str] = set()
    for header, name in mapping.items():
        if header not in table.headers:
            errors.append(_("The file has no column %(column)s.") % {"column": header})
        if not name:
            continue
        known = name in FIELD_NAMES or (
            name.startswith(EXTRA_PREFIX) and name.removeprefix(EXTRA_PREFIX) in codes
        )
        if not known:
            errors.append(_("%(field)s is not a field of the import.") % {"field": name})
        if name in used:
            errors.append(_("Two columns are read as %(field)s.") % {"field": name})
        used.add(name)
    if errors:
        raise ValidationError(errors)
    return {header: mapping.get(header, "") for header in table.headers}


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _day(value: Cell) -> date:
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _moment(value: Cell, *, end_of_day: bool) -> datetime | None:
    """A date or moment from a cell; a bare day ends with its last instant when it is an expiry."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        return day_end(_day(value)) if end_of_day else day_start(_day(value))
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _flag(value: Cell) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def _client_values(record: dict[str, Cell], context: _Context) -> dict[str, Any]:
    """The client's fields given by the row (empty cells are not given), unresolved names
    resolved; refusals keyed by field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in CLIENT_TEXT:
        text = _text(record.get(name))
        if text:
            values[name] = text.lower() if name == "language" else text
    manager = _text(record.get("manager")).lower()
    if manager:
        found = context.managers.get(manager)
        if found is None:
            errors["manager"] = _("No active cabinet user has the e-mail %(email)s.") % {
                "email": manager
            }
        values["manager"] = found
    distributor = _text(record.get("distributor"))
    if distributor:
        key = distributor.lower()
        with contextlib.suppress(ValueError):
            key = str(UUID(distributor))
        found_distributor = context.distributors.get(key)
        if found_distributor is None:
            errors["distributor"] = _("There is no distributor %(name)s.") % {"name": distributor}
        values["distributor"] = found_distributor
    extra = {
        name.removeprefix(EXTRA_PREFIX): value
        for name, value in record.items()
        if name.startswith(EXTRA_PREFIX) and value not in (None, "")
    }
    if extra:
        values["extra"] = {
            code: value.isoformat() if isinstance(value, date | datetime) else value
            for code, value in extra.items()
        }
    if errors:
        raise RowRefused(errors)
    return values


def _client_match(values: dict[str, Any], number: str | None) -> Client | None:
    if values.get("crm_id1"):
        found = Client.objects.filter(crm_id1=values["crm_id1"]).order_by("pk").first()
        if found:
            return found
    if values.get("email"):
        try:
            email = normalize_email(values["email"])
        except ValidationError:
            email = ""
        if email:
            found = Client.objects.filter(email=email).order_by("pk").first()
            if found:
                return found
    if number:
        key = LicenseKey.objects.select_related("client").filter(number=number).first()
        if key:
            return key.client
    return None


def _refusal(error: ValidationError) -> RowRefused:
    if hasattr(error, "error_dict"):
        return RowRefused(
            {name: " ".join(messages) for name, messages in error.message_dict.items()}
        )
    return RowRefused({"": " ".join(error.messages)})


def _client_apply(
    values: dict[str, Any], client: Client | None, context: _Context, counts: _Counts
) -> Client:
    if client is None:
        if not values.get("company"):
            raise RowRefused({"company": _("The company is required for a new client.")})
        try:
            created = client_create(actor=context.actor, accept_invalid_inn=True, **values)
        except ValidationError as error:
            raise _refusal(error) from None
        counts.clients_created += 1
        return created
    if "extra" in values:
        values["extra"] = {**client.extra, **values["extra"]}
    try:
        cleaned = client_clean(values, accept_invalid_inn=True)
    except ValidationError as error:
        raise _refusal(error) from None
    changes = {
        name: values[name]
        for name in values
        if getattr(client, name if name not in ("manager", "distributor") else f"{name}_id")
        != (
            cleaned[name].pk
            if name in ("manager", "distributor") and cleaned[name] is not None
            else cleaned[name]
        )
    }
    if not changes:
        return client
    try:
        updated = client_update(
            client=client, actor=context.actor, accept_invalid_inn=True, **changes
        )
    except ValidationError as error:
        raise _refusal(error) from None
    counts.clients_updated += 1
    return updated


def _key_number(record: dict[str, Cell]) -> str | None:
    typed = _text(record.get("key"))
    if not typed:
        return None
    number = keycodes.key_number(typed) or keycodes.legacy_key_number(typed)
    if number is None:
        raise RowRefused({"key": _("%(key)s is not a license key number.") % {"key": typed[:40]}})
    return number


def _key_apply(number: str, client: Client, context: _Context, counts: _Counts) -> LicenseKey:
    key = LicenseKey.objects.filter(number=number).first()
    if key is not None:
        if key.client_id != client.pk:
            raise RowRefused(
                {"key": _("The key %(key)s belongs to another client.") % {"key": number}}
            )
        return key
    # Kept as the client knows it, never drawn anew; no mail: the client has it already.
    key = LicenseKey.objects.create(number=number, client=client)
    client_reindex(client=client)
    audit_record(
        actor=context.actor, action="license_key.import", instance=key, after=snapshot(key)
    )
    counts.keys_created += 1
    return key


def _line_apply(
    record: dict[str, Cell],
    key: LicenseKey | None,
    context: _Context,
    counts: _Counts,
    *,
    new_key: bool = False,
) -> None:
    typed = _text(record.get("product"))
    if not typed:
        return
    errors: dict[str, str] = {}
    product = context.products.get(typed.lower())
    if product is None:
        errors["product"] = _("There is no product %(product)s.") % {"product": typed}
    if key is None:
        errors["key"] = _("A product needs the key it is in.")
    multiplier = 1
    if _text(record.get("multiplier")):
        try:
            multiplier = int(float(_text(record.get("multiplier"))))
            if multiplier < 1:
                raise ValueError
        except ValueError:
            errors["multiplier"] = _("The multiplier is a whole number, 1 or more.")
    starts_at = expires_at = None
    for name in ("starts", "expires"):
        try:
            moment = _moment(record.get(name), end_of_day=name == "expires")
        except ValueError:
            errors[name] = _("Write the date as 2025-12-31 or 31.12.2025.")
            continue
        if name == "starts":
            starts_at = moment
        else:
            expires_at = moment
    try:
        is_trial = _flag(record.get("trial"))
    except ValueError:
        errors["trial"] = _("Write yes or no.")
        is_trial = False
    if starts_at and expires_at and expires_at <= starts_at:
        errors["expires"] = _("The expiry must come after the start.")
    if errors:
        raise RowRefused(errors)
    assert key is not None
    assert product is not None
    same = KeyLine.objects.filter(
        key=key,
        product=product,
        multiplier=multiplier,
        is_trial=is_trial,
        expires_at=expires_at,
        state=LineState.ACTIVE,
    )
    if starts_at is not None:
        same = same.filter(starts_at=starts_at)
    # A key made by this row holds nothing yet.
    if not new_key and same.exists():
        return
    start = starts_at or timezone.now()
    if expires_at is not None and expires_at <= start:
        # A line that ended before today, its start not given: it started before it ended.
        start = expires_at - timedelta(days=1)
    line = KeyLine.objects.create(
        key=key,
        product=product,
        multiplier=multiplier,
        is_trial=is_trial,
        starts_at=start,
        expires_at=expires_at,
    )
    audit_record(actor=context.actor, action="key_line.import", instance=key, after=snapshot(line))
    counts.lines_created += 1


def _row_apply(record: dict[str, Cell], context: _Context, counts: _Counts) -> None:
    number = _key_number(record)
    values = _client_values(record, context)
    client = _client_apply(values, _client_match(values, number), context, counts)
    keys_before = counts.keys_created
    key = _key_apply(number, client, context, counts) if number else None
    _line_apply(record, key, context, counts, new_key=counts.keys_created > keys_before)


def import_batch_start(
    *, file_name: str, actor: Actor, dry_run: bool, mapping: dict[str, str], source: bytes = b""
) -> ImportBatch:
    return ImportBatch.objects.create(
        file_name=file_name[:300],
        actor_label=actor.label[:200],
        actor_user=actor.user,
        dry_run=dry_run,
        mapping=mapping,
        source=source,
    )


def import_run(
    *,
    batch: ImportBatch,
    table: Table,
    actor: Actor,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportBatch:
    """Applies the file's rows under the batch's mapping, in chunks of one transaction each
    (rolled back for a dry run); the batch keeps the counts and the refused rows."""
    context = _Context.load(actor)
    records = list(rows_as_records(table, batch.mapping))
    batch.rows_total = len(records)
    batch.save(update_fields=["rows_total"])
    errors: list[dict[str, Any]] = []
    counts = _Counts()
    try:
        for start in range(0, len(records), chunk_rows):
            chunk = records[start : start + chunk_rows]
            chunk_counts = _Counts()
            failed = 0
            try:
                with transaction.atomic():
                    for number, record in chunk:
                        row_counts = _Counts()
                        try:
                            with transaction.atomic():
                                _row_apply(record, context, row_counts)
                            # Counted once the row is in: a refused row is rolled back whole.
                            for name, value in vars(row_counts).items():
                                setattr(chunk_counts, name, getattr(chunk_counts, name) + value)
                        except RowRefused as refusal:
                            failed += 1
                            for name, message in refusal.errors.items():
                                if len(errors) < ERRORS_KEPT:
                                    errors.append(
                                        {"row": number, "field": name, "message": message}
                                    )
                    if batch.dry_run:
                        raise _DryRunRollback
            except _DryRunRollback:
                pass
            for name in vars(counts):
                setattr(counts, name, getattr(counts, name) + getattr(chunk_counts, name))
            batch.rows_done += len(chunk)
            batch.rows_failed += failed
            batch.errors = errors
            for name, value in vars(counts).items():
                setattr(batch, name, value)
            batch.save()
            if progress:
                progress(batch)
    except Exception as error:
        logger.exception("import %s failed", batch.pk)
        batch.status = ImportStatus.FAILED
        batch.failure = str(error)[:2000]
        batch.finished_at = timezone.now()
        batch.source = b""
        batch.save()
        raise
    with transaction.atomic():
        batch.status = ImportStatus.DONE
        batch.finished_at = timezone.now()
        batch.source = b""
        batch.save()
        audit_record(
            actor=actor,
            action="import.dry_run" if batch.dry_run else "import.run",
            instance=batch,
            after={
                "file": batch.file_name,
                "rows": batch.rows_total,
                "rows_refused": batch.rows_failed,
                **vars(counts),
            },
        )
    return batch


def import_file(
    *,
    data: bytes,
    file_name: str,
    actor: Actor,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Reads the file and imports it at once (the command line, tests)."""
    table = table_read(data, file_name=file_name)
    chosen = mapping_clean(table, {**import_mapping_guess(table), **(mapping or {})})
    batch = import_batch_start(file_name=file_name, actor=actor, dry_run=dry_run, mapping=chosen)
    return import_run(batch=batch, table=table, actor=actor, progress=progress)
