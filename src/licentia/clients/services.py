"""Clients: creation (by a manager, the trial questionnaire or the API), changes, deletion."""

import itertools
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.clients.extra_fields import extra_value_read
from licentia.clients.models import (
    Client,
    ClientFieldDefinition,
    ClientSearchToken,
    ClientSource,
    Distributor,
)
from licentia.clients.search import client_search_tokens, extra_text_codes, token_is_simple
from licentia.clients.signals import (
    client_created,
    client_deleted,
    client_deleting,
    client_deletion_blockers,
    client_search_values,
    client_updated,
)
from licentia.core.audit import (
    Actor,
    audit_record,
    audit_record_many,
    audited_change,
    audited_delete,
    snapshot,
)
from licentia.core.models import User
from licentia.core.normalize import (
    company_key,
    inn_is_valid,
    looks_like_inn,
    normalize_email,
    normalize_phone,
)
from licentia.core.rawsql import insert_many
from licentia.core.signals import signal_answers

CLIENT_FIELDS = (
    "company",
    "contact",
    "phone",
    "email",
    "alert_email",
    "crm_id1",
    "crm_id2",
    "manager",
    "distributor",
    "comment",
    "language",
    "extra",
)
TEXT_FIELDS = ("company", "contact", "phone", "crm_id1", "crm_id2", "comment")
# Reindexing every holder of an additional field asks the other apps for this many at once.
REINDEX_BATCH = 1000
# Rows a bulk insert or update writes at once.
BULK_BATCH = 1000


class InvalidInnWarning(ValidationError):
    """CRM ID1 looks like an INN with a wrong check digit; the manager may keep it anyway."""


def field_definitions() -> dict[str, ClientFieldDefinition]:
    """The additional fields by code, for cleaning many cards with one read."""
    return {definition.code: definition for definition in ClientFieldDefinition.objects.all()}


def _clean_extra(
    values: dict[str, Any], definitions: dict[str, ClientFieldDefinition] | None
) -> dict[str, Any]:
    if definitions is None:
        definitions = field_definitions()
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for code, value in values.items():
        definition = definitions.get(code)
        if definition is None:
            errors[code] = _("There is no additional field with this code.")
            continue
        if value in (None, ""):
            continue
        try:
            cleaned[code] = extra_value_read(definition, value)
        except ValidationError as error:
            errors[code] = " ".join(error.messages)
    for code, definition in definitions.items():
        if definition.required and not definition.archived and code not in cleaned:
            errors[code] = _("This field is required.")
    if errors:
        raise ValidationError({f"extra.{code}": message for code, message in errors.items()})
    return cleaned


def client_clean(
    data: dict[str, Any],
    *,
    accept_invalid_inn: bool,
    definitions: dict[str, ClientFieldDefinition] | None = None,
) -> dict[str, Any]:
    """The client's fields normalised, or a ValidationError keyed by field; `definitions` (see
    field_definitions) when cleaning many cards at once."""
    cleaned = dict(data)
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        if name in cleaned:
            cleaned[name] = str(cleaned[name] or "").strip()
            limit = getattr(Client._meta.get_field(name), "max_length", None)
            if limit and len(cleaned[name]) > limit:
                errors[name] = [_("At most %(limit)d characters.") % {"limit": limit}]
    if "company" in cleaned and not cleaned["company"]:
        errors["company"] = [_("The company is required.")]
    for name in ("email", "alert_email"):
        if name in cleaned:
            try:
                cleaned[name] = normalize_email(str(cleaned[name] or ""))
            except ValidationError:
                errors[name] = [_("Enter a valid e-mail address.")]
    if "phone" in cleaned:
        try:
            cleaned["phone_e164"] = normalize_phone(cleaned["phone"])
        except ValidationError as error:
            errors["phone"] = error.messages
    if "language" in cleaned and cleaned["language"] not in {"ru", "en"}:
        errors["language"] = [_("The language is ru or en.")]
    if "manager" in cleaned and cleaned["manager"] is not None:
        manager = cleaned["manager"]
        if not isinstance(manager, User) or not (manager.is_active and manager.is_staff):
            errors["manager"] = [_("The responsible manager must be an active cabinet user.")]
    distributor = cleaned.get("distributor")
    if distributor is not None and not isinstance(distributor, Distributor):
        errors["distributor"] = [_("Choose a distributor.")]
    if "extra" in cleaned:
        try:
            cleaned["extra"] = _clean_extra(dict(cleaned["extra"] or {}), definitions)
        except ValidationError as error:
            errors.update(error.message_dict)
    crm_id1 = cleaned.get("crm_id1", "")
    inn_doubt = None
    if crm_id1 and looks_like_inn(crm_id1) and not inn_is_valid(crm_id1) and not accept_invalid_inn:
        inn_doubt = _(
            "%(inn)s looks like an INN, but its check digit is wrong. Correct it, "
            "or confirm that it is right as typed."
        ) % {"inn": crm_id1}
    if errors:
        # Every mistake at once: the doubtful INN is told together with the others.
        if inn_doubt and "crm_id1" not in errors:
            errors["crm_id1"] = [inn_doubt]
        raise ValidationError(errors)
    if inn_doubt:
        raise InvalidInnWarning({"crm_id1": [inn_doubt]}, code="invalid_inn")
    return cleaned


def clients_linked_values(clients: list[Client]) -> dict[int, list[str]]:
    """Per client, what the apps above find it by (the numbers of its keys)."""
    values: dict[int, list[str]] = {client.pk: [] for client in clients}
    for answer in signal_answers(client_search_values, sender=Client, clients=clients):
        for client_id, found in answer.items():
            values[client_id].extend(found)
    return values


def client_reindex(
    *,
    client: Client,
    linked_values: list[str] | None = None,
    text_codes: set[str] | None = None,
) -> None:
    """Rewrites the client's search tokens and duplicate key from its current values;
    `linked_values` (see clients_linked_values) when the caller has them already."""
    if linked_values is None:
        linked_values = clients_linked_values([client])[client.pk]
    tokens = client_search_tokens(client, linked_values=linked_values, text_codes=text_codes)
    ClientSearchToken.objects.filter(client=client).delete()
    ClientSearchToken.objects.bulk_create(
        ClientSearchToken(client=client, token=token, simple=token_is_simple(token))
        for token in sorted(tokens)
    )
    client.company_key = company_key(client.company)
    Client.objects.filter(pk=client.pk).update(company_key=client.company_key)


def _indexes_write(clients: list[Client], linked: dict[int, list[str]], *, replace: bool) -> None:
    text_codes = extra_text_codes()
    if replace:
        ClientSearchToken.objects.filter(client_id__in=[client.pk for client in clients]).delete()
    rows = [
        (client.pk, token, token_is_simple(token))
        for client in clients
        for token in sorted(
            client_search_tokens(client, linked_values=linked[client.pk], text_codes=text_codes)
        )
    ]
    # A client has a score of tokens: a model instance for each would cost more than writing it.
    insert_many(ClientSearchToken, ("client", "token", "simple"), rows)
    moved = []
    for client in clients:
        key = company_key(client.company)
        if key != client.company_key:
            client.company_key = key
            moved.append(client)
    Client.objects.bulk_update(moved, ["company_key"], batch_size=BULK_BATCH)


def clients_reindex_many(*, clients: list[Client]) -> None:
    """client_reindex for many clients, with a few queries whatever their number."""
    if clients:
        _indexes_write(clients, clients_linked_values(clients), replace=True)


def clients_create_many(
    *, actor: Actor, source: str, cards: list[dict[str, Any]], linked_values: list[list[str]]
) -> list[Client]:
    """client_create for many cleaned cards (client_clean), with a few queries whatever their
    number. Each new client is indexed once, with its `linked_values`: what the caller hangs on
    it later in the same transaction (the numbers of the keys it makes for it), which the
    index would otherwise only learn by a second pass."""
    if source not in ClientSource.values:
        raise ValueError(f"unknown client source {source!r}")
    clients = [
        Client(source=source, company_key=company_key(card["company"]), **card) for card in cards
    ]
    with transaction.atomic():
        Client.objects.bulk_create(clients, batch_size=BULK_BATCH)
        linked = {client.pk: values for client, values in zip(clients, linked_values, strict=True)}
        _indexes_write(clients, linked, replace=False)
        audit_record_many(
            actor=actor,
            action="client.create",
            entries=((client, None, snapshot(client)) for client in clients),
        )
        for client in clients:
            client_created.send(sender=Client, client=client, actor=actor)
    return clients


def clients_update_many(*, actor: Actor, changes: dict[int, dict[str, Any]]) -> list[Client]:
    """client_update for many clients, by id, each with its cleaned changes (client_clean),
    with a few queries whatever their number: the rows locked and read once, written once,
    indexed once; the audit keeps each card before and after."""
    if not changes:
        return []
    with transaction.atomic():
        clients = list(Client.objects.select_for_update().filter(pk__in=changes).order_by("pk"))
        befores = {client.pk: snapshot(client) for client in clients}
        now = timezone.now()
        names = {"updated_at"}
        for client in clients:
            for name, value in changes[client.pk].items():
                setattr(client, name, value)
                names.add(name)
            client.updated_at = now
        Client.objects.bulk_update(clients, sorted(names), batch_size=BULK_BATCH)
        clients_reindex_many(clients=clients)
        entries = []
        for client in clients:
            after = snapshot(client)
            if after != befores[client.pk]:
                entries.append((client, befores[client.pk], after))
        audit_record_many(actor=actor, action="client.update", entries=entries)
        for client in clients:
            client_updated.send(sender=Client, client=client, actor=actor)
    return clients


def clients_reindex_extra_field(*, code: str) -> int:
    """Re-indexes every client holding a value in the additional field, after its definition
    changed (a text field is searched, others are not)."""
    text_codes = extra_text_codes()
    holders = (
        Client.objects.filter(extra__has_key=code).order_by("pk").iterator(chunk_size=REINDEX_BATCH)
    )
    count = 0
    while batch := list(itertools.islice(holders, REINDEX_BATCH)):
        linked = clients_linked_values(batch)
        for client in batch:
            with transaction.atomic():
                client_reindex(
                    client=client, linked_values=linked[client.pk], text_codes=text_codes
                )
        count += len(batch)
    return count


def client_create(
    *,
    actor: Actor,
    source: str = ClientSource.MANUAL,
    accept_invalid_inn: bool = False,
    **fields: Any,
) -> Client:
    unknown = fields.keys() - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {', '.join(sorted(unknown))}")
    if source not in ClientSource.values:
        raise ValueError(f"unknown client source {source!r}")
    cleaned = client_clean({"company": "", **fields}, accept_invalid_inn=accept_invalid_inn)
    with transaction.atomic():
        client = Client(source=source, **cleaned)
        client.save()
        # A new client has nothing of other apps yet.
        client_reindex(client=client, linked_values=[])
        audit_record(actor=actor, action="client.create", instance=client, after=snapshot(client))
        client_created.send(sender=Client, client=client, actor=actor)
    return client


def client_update(
    *, client: Client, actor: Actor, accept_invalid_inn: bool = False, **changes: Any
) -> Client:
    unknown = changes.keys() - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {', '.join(sorted(unknown))}")
    cleaned = client_clean(changes, accept_invalid_inn=accept_invalid_inn)
    with audited_change(Client, client.pk, actor=actor, action="client.update") as current:
        for name, value in cleaned.items():
            setattr(current, name, value)
        current.save()
        client_reindex(client=current)
        client_updated.send(sender=Client, client=current, actor=actor)
    return current


def client_delete_blockers(client: Client) -> list[str]:
    """Why the client cannot be deleted, as the apps holding records of it say; empty when it
    can."""
    return [
        reason
        for reasons in signal_answers(client_deletion_blockers, sender=Client, client=client)
        for reason in reasons
    ]


def client_delete(*, client: Client, actor: Actor) -> None:
    """Deletes the client with what the other apps hang on it (its empty keys); the audit event
    keeps the full card and what they removed."""
    with transaction.atomic():
        current = Client.objects.select_for_update().get(pk=client.pk)
        blockers = client_delete_blockers(current)
        if blockers:
            raise ValidationError(blockers, code="client_in_use")
        card = snapshot(current)
        for removed in signal_answers(client_deleting, sender=Client, client=current):
            card.update(removed)
        audit_record(actor=actor, action="client.delete", instance=current, before=card)
        client_id = current.pk
        current.delete()
        client_deleted.send(sender=Client, client_id=client_id, card=card, actor=actor)


def distributor_delete_blockers(distributor: Distributor) -> list[str]:
    count = distributor.clients.count()
    if not count:
        return []
    return [
        _("%(name)s: %(count)d clients belong to it; move them elsewhere first.")
        % {"name": distributor.name, "count": count}
    ]


def distributor_delete(*, distributor: Distributor, actor: Actor) -> None:
    audited_delete(
        instance=distributor,
        actor=actor,
        action="distributor.delete",
        blockers=distributor_delete_blockers,
        code="distributor_in_use",
    )


def client_field_delete_blockers(definition: ClientFieldDefinition) -> list[str]:
    """A field that holds values is archived instead: deleting it would lose them."""
    count = Client.objects.filter(extra__has_key=definition.code).count()
    if not count:
        return []
    return [
        _("%(label)s: %(count)d clients have a value in it; archive it instead.")
        % {"label": definition.label_ru, "count": count}
    ]


def client_field_delete(*, definition: ClientFieldDefinition, actor: Actor) -> None:
    audited_delete(
        instance=definition,
        actor=actor,
        action="clientfielddefinition.delete",
        blockers=client_field_delete_blockers,
        code="client_field_in_use",
    )
