"""API keys: made, revoked, and a presented token checked."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.api.models import ApiKey, ApiKeyDay, ApiRole
from licentia.core.audit import Actor, audit_record, audited_change, snapshot
from licentia.core.counters import counter_bump
from licentia.core.models import ActorKind

SECRET_BYTES = 32
# `last used` is written at most this often, not on every call.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    token: str  # `<id>.<secret>`, shown once


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, role: str, actor: Actor) -> NewApiKey:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("This field is required.")
    if role not in ApiRole.values:
        errors["role"] = _("Choose one of: %(expected)s.") % {"expected": ", ".join(ApiRole.values)}
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip()[:200],
            role=role,
            secret_hash=_secret_hash(secret),
            created_by=actor.user,
        )
        audit_record(actor=actor, action="api_key.create", instance=key, after=snapshot(key))
    return NewApiKey(key=key, token=f"{key.pk}.{secret}")


def api_key_revoke(*, key: ApiKey, actor: Actor) -> ApiKey:
    with audited_change(ApiKey, key.pk, actor=actor, action="api_key.revoke") as current:
        if current.revoked_at is None:
            current.revoked_at = timezone.now()
            current.save(update_fields=["revoked_at"])
    return current


def api_key_authenticate(token: str) -> ApiKey | None:
    """The key a `<id>.<secret>` token names, unless revoked or the secret is wrong; the call
    is counted for the key."""
    key_id, dot, secret = token.partition(".")
    if not dot or not key_id.isdigit() or len(key_id) > 18 or not secret:
        return None
    key = ApiKey.objects.filter(pk=int(key_id), revoked_at__isnull=True).first()
    expected = key.secret_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, _secret_hash(secret)) or key is None:
        return None
    api_key_count_call(key=key)
    return key


def api_key_count_call(*, key: ApiKey) -> None:
    now = timezone.now()
    counter_bump(
        ApiKeyDay, match={"key": key, "day": now.date()}, create={"calls": 1}, calls=F("calls") + 1
    )
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION), pk=key.pk
    ).update(last_used_at=now)


def api_actor(key: ApiKey, ip: str | None = None) -> Actor:
    """The audit's actor of a call made with the key."""
    return Actor(kind=ActorKind.API_KEY, label=f"API #{key.pk} {key.name}"[:200], ip=ip)
