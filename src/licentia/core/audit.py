"""The audit log: who changed what, with the data before and after."""

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from licentia.core.models import ActorKind, AuditEvent, User
from licentia.core.network import client_ip
from licentia.core.rawsql import insert_many

# Never copied into the log: hashes and encrypted secrets are not for reading, and derived
# columns only repeat the other fields.
UNLOGGED_FIELDS = frozenset(
    {
        "password",
        "signing_private_key_encrypted",
        "password_encrypted",
        "secret_hash",
        "secret_sealed",
        "company_key",
    }
)


class AuditOutsideTransactionError(RuntimeError):
    """An audit event must share the transaction of the change it records."""


@dataclass(frozen=True)
class Actor:
    kind: str
    label: str
    user: User | None = None
    ip: str | None = None

    @classmethod
    def staff(cls, user: User, ip: str | None = None) -> "Actor":
        return cls(kind=ActorKind.STAFF, label=user.get_username(), user=user, ip=ip)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Actor":
        user = request.user
        if not isinstance(user, User):
            raise ValueError("a staff actor needs a signed-in user")
        return cls.staff(user, ip=client_ip(request))


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's field values as JSON-ready data, secrets left out."""
    fields = serializers.serialize("python", [instance])[0]["fields"]
    data = {"id": instance.pk, **fields}
    for name in UNLOGGED_FIELDS & data.keys():
        del data[name]
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def audit_record(
    *,
    actor: Actor,
    action: str,
    instance: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    if not connection.in_atomic_block:
        raise AuditOutsideTransactionError(
            f"audit_record({action!r}) must run inside the transaction of the change"
        )
    event = AuditEvent(
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_label=actor.label[:200],
        action=action,
        ip=actor.ip,
        before=_jsonable(before),
        after=_jsonable(after),
    )
    if instance is not None:
        event.object_type = instance._meta.label_lower
        event.object_id = str(instance.pk)
        event.object_repr = str(instance)[:300]
    event.save()
    return event


# One change of many recorded at once: (the object, its data before, its data after).
AuditEntry = tuple[models.Model, dict[str, Any] | None, dict[str, Any] | None]
_MANY_FIELDS = (
    *("created_at", "actor_kind", "actor_user", "actor_label", "action", "ip"),
    *("object_type", "object_id", "object_repr", "before", "after"),
)


def audit_record_many(*, actor: Actor, action: str, entries: Iterable[AuditEntry]) -> int:
    """An event for each of many changes of one kind (an import's clients, keys and lines),
    written by one statement run for them all; the same rules as audit_record."""
    if not connection.in_atomic_block:
        raise AuditOutsideTransactionError(
            f"audit_record_many({action!r}) must run inside the transaction of the change"
        )
    common = (timezone.now(), actor.kind, actor.user and actor.user.pk, actor.label[:200])
    return insert_many(
        AuditEvent,
        _MANY_FIELDS,
        (
            (
                *common,
                action,
                actor.ip,
                instance._meta.label_lower,
                str(instance.pk),
                str(instance)[:300],
                _jsonable(before),
                _jsonable(after),
            )
            for instance, before, after in entries
        ),
    )


M = TypeVar("M", bound=models.Model)


@contextmanager
def audited_change(
    model: type[M],
    pk: Any,
    *,
    actor: Actor,
    action: str,
    recorded_on: Callable[[M], models.Model] | None = None,
) -> Iterator[M]:
    """The row, locked in the transaction this opens for the change made to it inside; on
    leaving, the change is recorded with the row before and after, on the row itself or on
    the object `recorded_on` names (a key line's change shows in its key's history). A row
    left as it was records nothing."""
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=pk)
        before = snapshot(current)
        yield current
        after = snapshot(current)
        if after != before:
            instance = recorded_on(current) if recorded_on else current
            audit_record(actor=actor, action=action, instance=instance, before=before, after=after)


def audited_delete(
    *, instance: M, actor: Actor, action: str, blockers: Callable[[M], list[str]], code: str
) -> M:
    """Deletes the object, locked, unless `blockers` give reasons why not (a ValidationError
    with `code`); the audit event keeps the whole of it. Callers that change more in the same
    transaction open it around this call."""
    with transaction.atomic():
        current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        reasons = blockers(current)
        if reasons:
            raise ValidationError(reasons, code=code)
        audit_record(actor=actor, action=action, instance=current, before=snapshot(current))
        current.delete()
    return current


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
