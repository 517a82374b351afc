"""The audit log: who changed what, with the data before and after."""

import json
from dataclasses import dataclass
from typing import Any

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.http import HttpRequest

from licentia.core.models import ActorKind, AuditEvent, User
from licentia.core.network import client_ip

# Never copied into the log: hashes and encrypted secrets are not for reading, and derived
# columns only repeat the other fields.
UNLOGGED_FIELDS = frozenset(
    {"password", "signing_private_key_encrypted", "secret_hash", "company_key"}
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


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
