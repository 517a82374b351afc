"""Importing a vendor's clients, their keys (with the numbers the clients already use) and the
products in those keys from a file of its previous service.

A row is a client, optionally with a key, optionally with a product line of that key; a client
with several keys or products takes several rows. A client is matched by CRM ID1, then e-mail,
then the key's number, so that running the same file again changes nothing. Each row is applied
whole or not at all; a refused row is reported with its number and fields.

The rows go in chunks, each one transaction: its rows are matched against the database with one
query per kind (CRM ID1, e-mail, key number, and the lines of the keys found), applied one after
another in memory, and what they make is written at the end of the chunk with bulk inserts,
each client indexed for the search once, an audit event for each object. A failure keeps the
chunks before it; a dry run does everything and rolls each chunk back. The batch is recorded by
one more audit event of its own."""

import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.catalog.models import Product
from licentia.clients.models import Client, ClientFieldDefinition, ClientSource, Distributor
from licentia.clients.services import (
    BULK_BATCH,
    client_clean,
    clients_create_many,
    clients_reindex_many,
    clients_update_many,
    field_definitions,
)
from licentia.core import keycodes
from licentia.core.audit import Actor, audit_record, audit_record_many, snapshot
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
    definitions: dict[str, ClientFieldDefinition] = field(default_factory=dict)

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
        context.definitions = field_definitions()
        context.extra_codes = set(context.definitions)
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


def _refusal(error: ValidationError) -> RowRefused:
    if hasattr(error, "error_dict"):
        return RowRefused(
            {name: " ".join(messages) for name, messages in error.message_dict.items()}
        )
    return RowRefused({"": " ".join(error.messages)})


def _key_number(record: dict[str, Cell]) -> str | None:
    typed = _text(record.get("key"))
    if not typed:
        return None
    number = keycodes.key_number(typed) or keycodes.legacy_key_number(typed)
    if number is None:
        raise RowRefused({"key": _("%(key)s is not a license key number.") % {"key": typed[:40]}})
    return number


@dataclass(frozen=True)
class _Line:
    """A product line a row gives its key (start None: not given)."""

    product_id: int
    multiplier: int
    is_trial: bool
    starts_at: datetime | None
    expires_at: datetime | None

    def held_by(self, held: list["_Line"]) -> bool:
        """Whether the key holds this line already (active, a start not given matching any)."""
        return any(
            (line.product_id, line.multiplier, line.is_trial, line.expires_at)
            == (self.product_id, self.multiplier, self.is_trial, self.expires_at)
            and (self.starts_at is None or line.starts_at == self.starts_at)
            for line in held
        )


def _line_read(record: dict[str, Cell], context: _Context, *, has_key: bool) -> _Line | None:
    typed = _text(record.get("product"))
    if not typed:
        return None
    errors: dict[str, str] = {}
    product = context.products.get(typed.lower())
    if product is None:
        errors["product"] = _("There is no product %(product)s.") % {"product": typed}
    if not has_key:
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
    assert product is not None
    return _Line(product.pk, multiplier, is_trial, starts_at, expires_at)


@dataclass
class _Row:
    """A row read: its refusal, or what it gives (the refusal of its line is told only once
    its client and key are accepted, as they come first)."""

    number: int
    refusal: RowRefused | None = None
    key_number: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    line: _Line | None = None
    line_refusal: RowRefused | None = None


def _row_read(number: int, record: dict[str, Cell], context: _Context) -> _Row:
    row = _Row(number)
    try:
        row.key_number = _key_number(record)
        row.values = _client_values(record, context)
    except RowRefused as refusal:
        row.refusal = refusal
        return row
    with contextlib.suppress(ValidationError):
        row.email = normalize_email(row.values.get("email", ""))
    try:
        row.line = _line_read(record, context, has_key=row.key_number is not None)
    except RowRefused as refusal:
        row.line_refusal = refusal
    return row


# The fields a row may give a client, compared by value (a manager or distributor by its id).
_COMPARED = (*CLIENT_TEXT, "manager", "distributor", "extra")
_RELATED = ("manager", "distributor")


def _comparable(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


@dataclass(eq=False)
class _ChunkClient:
    """A client as a chunk sees it: read from the database, or made by one of its rows."""

    # Read ones first by id, then new ones as they came: the order of their ids once written.
    order: tuple[int, int]
    # Its values now, as _comparable makes them.
    seen: dict[str, Any]
    client: Client | None = None
    # A new client's cleaned card; an existing one's cleaned changes.
    card: dict[str, Any] = field(default_factory=dict)
    new_numbers: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, client: Client) -> "_ChunkClient":
        return cls(order=(0, client.pk), seen=cls.values_of(client), client=client)

    @staticmethod
    def values_of(client: Client) -> dict[str, Any]:
        return {
            name: getattr(client, f"{name}_id" if name in _RELATED else name) for name in _COMPARED
        }


@dataclass(eq=False)
class _ChunkKey:
    number: str
    owner: _ChunkClient
    held: list[_Line]
    key: LicenseKey | None = None


class _Chunk:
    """One chunk's rows, matched against the existing clients, keys and lines with one query
    per kind, applied one after another in memory, and written at the end with bulk inserts.
    A row is applied whole or not at all: a refused row leaves nothing, and each row sees what
    the rows before it made or changed, as it would in the database."""

    def __init__(self, rows: list[_Row], context: _Context) -> None:
        self.context = context
        self.rows = rows
        self.clients: dict[int, _ChunkClient] = {}
        self.by_crm_id1: dict[str, set[_ChunkClient]] = defaultdict(set)
        self.by_email: dict[str, set[_ChunkClient]] = defaultdict(set)
        self.keys: dict[str, _ChunkKey] = {}
        self.made: list[_ChunkClient] = []
        # Read clients that rows changed, by id(): each is written once whatever the rows.
        self.changed: dict[int, _ChunkClient] = {}
        self.new_keys: list[_ChunkKey] = []
        # A new line with its start (today when the row gives none).
        self.new_lines: list[tuple[_ChunkKey, _Line, datetime]] = []
        self._read()

    def _read(self) -> None:
        crm_ids = {row.values["crm_id1"] for row in self.rows if row.values.get("crm_id1")}
        emails = {row.email for row in self.rows if row.email}
        numbers = {row.key_number for row in self.rows if row.key_number}
        found = [
            *Client.objects.filter(crm_id1__in=crm_ids).order_by(),
            *Client.objects.filter(email__in=emails).order_by(),
        ]
        keys = list(
            LicenseKey.objects.filter(number__in=numbers).select_related("client").order_by()
        )
        for client in [*found, *(key.client for key in keys)]:
            if client.pk not in self.clients:
                self._remember(_ChunkClient.read(client))
        held: dict[int, list[_Line]] = defaultdict(list)
        lines = KeyLine.objects.filter(key__in=keys, state=LineState.ACTIVE).order_by()
        for key_id, product_id, multiplier, is_trial, starts_at, expires_at in lines.values_list(
            "key_id", "product_id", "multiplier", "is_trial", "starts_at", "expires_at"
        ):
            held[key_id].append(_Line(product_id, multiplier, is_trial, starts_at, expires_at))
        for key in keys:
            self.keys[key.number] = _ChunkKey(
                key.number, self.clients[key.client_id], held[key.pk], key
            )

    def _remember(self, holder: _ChunkClient) -> None:
        if holder.client is not None:
            self.clients[holder.client.pk] = holder
        if holder.seen["crm_id1"]:
            self.by_crm_id1[holder.seen["crm_id1"]].add(holder)
        if holder.seen["email"]:
            self.by_email[holder.seen["email"]].add(holder)

    def _forget(self, holder: _ChunkClient) -> None:
        self.by_crm_id1[holder.seen["crm_id1"]].discard(holder)
        self.by_email[holder.seen["email"]].discard(holder)

    def _match(self, row: _Row) -> _ChunkClient | None:
        """By CRM ID1, then e-mail (the first client made with it), then the key's number."""
        for holders in (
            self.by_crm_id1.get(row.values.get("crm_id1", "")),
            self.by_email.get(row.email),
        ):
            if holders:
                return min(holders, key=lambda holder: holder.order)
        key = self.keys.get(row.key_number or "")
        return key.owner if key else None

    def _clean(self, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return client_clean(
                values, accept_invalid_inn=True, definitions=self.context.definitions
            )
        except ValidationError as error:
            raise _refusal(error) from None

    def apply(self, row: _Row, counts: _Counts) -> None:
        """Applies the row to what the chunk holds, or refuses it leaving that as it was."""
        if row.refusal:
            raise row.refusal
        holder = self._match(row)
        values = dict(row.values)
        changes: dict[str, Any] = {}
        created = holder is None
        if holder is None:
            if not values.get("company"):
                raise RowRefused({"company": _("The company is required for a new client.")})
            card = self._clean({"company": "", **values})
            seen = _ChunkClient.values_of(Client(**card))
            holder = _ChunkClient(order=(1, len(self.made)), seen=seen, card=card)
        else:
            if "extra" in values:
                values["extra"] = {**holder.seen["extra"], **values["extra"]}
            cleaned = self._clean(values)
            changes = {
                name: cleaned[name]
                for name in values
                if _comparable(cleaned[name]) != holder.seen[name]
            }
            if "phone" in changes:
                changes["phone_e164"] = cleaned["phone_e164"]
        key = self.keys.get(row.key_number) if row.key_number else None
        if key is not None and key.owner is not holder:
            raise RowRefused(
                {"key": _("The key %(key)s belongs to another client.") % {"key": row.key_number}}
            )
        if row.line_refusal:
            raise row.line_refusal
        # Accepted: from here on the row only adds to what the chunk holds.
        if created:
            self.made.append(holder)
            self._remember(holder)
            counts.clients_created += 1
        elif changes:
            self._forget(holder)
            holder.card.update(changes)
            holder.seen.update({name: _comparable(changes[name]) for name in changes})
            self._remember(holder)
            if holder.client is not None:
                self.changed[id(holder)] = holder
            counts.clients_updated += 1
        if row.key_number and key is None:
            # Kept as the client knows it, never drawn anew; no mail: the client has it already.
            key = _ChunkKey(row.key_number, holder, [])
            self.keys[row.key_number] = key
            self.new_keys.append(key)
            holder.new_numbers.append(row.key_number)
            counts.keys_created += 1
        if row.line and key is not None and not row.line.held_by(key.held):
            start = row.line.starts_at or timezone.now()
            if row.line.expires_at is not None and row.line.expires_at <= start:
                # A line that ended before today, its start not given: it started before it
                # ended.
                start = row.line.expires_at - timedelta(days=1)
            key.held.append(replace(row.line, starts_at=start))
            self.new_lines.append((key, row.line, start))
            counts.lines_created += 1

    def write(self, actor: Actor) -> None:
        """Writes what the accepted rows made: new clients (each indexed once, with the
        numbers of its keys), keys and lines by bulk inserts, changed clients by a bulk
        update, and the index of the existing clients that got keys; an audit event for each
        object, inserted together."""
        made = clients_create_many(
            actor=actor,
            source=ClientSource.IMPORT,
            cards=[holder.card for holder in self.made],
            linked_values=[holder.new_numbers for holder in self.made],
        )
        for holder, client in zip(self.made, made, strict=True):
            holder.client = client
        keys = LicenseKey.objects.bulk_create(
            [LicenseKey(number=key.number, client=key.owner.client) for key in self.new_keys],
            batch_size=BULK_BATCH,
        )
        for chunk_key, key in zip(self.new_keys, keys, strict=True):
            chunk_key.key = key
        audit_record_many(
            actor=actor,
            action="license_key.import",
            entries=((key, None, snapshot(key)) for key in keys),
        )
        lines = KeyLine.objects.bulk_create(
            [
                KeyLine(
                    key=key.key,
                    product_id=line.product_id,
                    multiplier=line.multiplier,
                    is_trial=line.is_trial,
                    starts_at=start,
                    expires_at=line.expires_at,
                )
                for key, line, start in self.new_lines
            ],
            batch_size=BULK_BATCH,
        )
        audit_record_many(
            actor=actor,
            action="key_line.import",
            entries=((line.key, None, snapshot(line)) for line in lines),
        )
        clients_update_many(
            actor=actor,
            changes={
                holder.client.pk: holder.card for holder in self.changed.values() if holder.client
            },
        )
        clients_reindex_many(
            clients=[
                holder.client
                for holder in self.clients.values()
                if holder.client and holder.new_numbers and id(holder) not in self.changed
            ]
        )


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
    (see _Chunk; rolled back for a dry run), so that a failure keeps the chunks before it; the
    batch keeps the counts and the refused rows, and one audit event records it."""
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
            rows = [_row_read(number, record, context) for number, record in chunk]
            try:
                with transaction.atomic():
                    plan = _Chunk(rows, context)
                    for row in rows:
                        try:
                            plan.apply(row, chunk_counts)
                        except RowRefused as refusal:
                            failed += 1
                            for name, message in refusal.errors.items():
                                if len(errors) < ERRORS_KEPT:
                                    errors.append(
                                        {"row": row.number, "field": name, "message": message}
                                    )
                    plan.write(actor)
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
