"""License keys: generation, products by hand, blocking, re-binding, deletion."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.catalog.models import Product
from licentia.clients.models import Client
from licentia.clients.services import client_reindex, client_update
from licentia.core import keycodes
from licentia.core.audit import Actor, audit_record, audited_change, audited_delete, snapshot
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.signals import key_blocked, key_created

GENERATION_ATTEMPTS = 5


def license_key_generate(*, client: Client, actor: Actor) -> LicenseKey:
    """A new empty key (no products) for the client, numbered with the vendor's prefix."""
    prefix = vendor_settings_get().key_prefix
    for _attempt in range(GENERATION_ATTEMPTS):
        try:
            with transaction.atomic():
                key = LicenseKey.objects.create(number=keycodes.generate_key(prefix), client=client)
                client_reindex(client=client)
                audit_record(
                    actor=actor, action="license_key.create", instance=key, after=snapshot(key)
                )
                key_created.send(sender=LicenseKey, key=key, actor=actor)
                return key
        except IntegrityError:
            # 32**19 numbers make a collision all but impossible; if one happens, draw again.
            continue
    raise RuntimeError("could not draw an unused license key number")


def key_line_add(
    *,
    key: LicenseKey,
    product: Product,
    actor: Actor,
    multiplier: int = 1,
    is_trial: bool = False,
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> KeyLine:
    """A product line added by a manager, for corrections without a coupon."""
    errors: dict[str, str] = {}
    if product.retired:
        errors["product"] = _("The product is retired; it cannot be added to keys.")
    if multiplier < 1:
        errors["multiplier"] = _("The multiplier is 1 or more.")
    start = starts_at or timezone.now()
    if expires_at is not None and expires_at <= start:
        errors["expires_at"] = _("The expiry must come after the start.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        LicenseKey.objects.select_for_update().get(pk=key.pk)
        line = KeyLine.objects.create(
            key=key,
            product=product,
            multiplier=multiplier,
            is_trial=is_trial,
            starts_at=start,
            expires_at=expires_at,
        )
        audit_record(actor=actor, action="key_line.add", instance=key, after=snapshot(line))
    return line


def key_line_end(
    *, line: KeyLine, actor: Actor, state: str = LineState.ENDED_BY_MANAGER
) -> KeyLine:
    with audited_change(
        KeyLine, line.pk, actor=actor, action="key_line.end", recorded_on=lambda line: line.key
    ) as current:
        if current.state != LineState.ACTIVE:
            raise ValidationError(_("This line has ended already."), code="line_ended")
        current.state = state
        current.ended_at = timezone.now()
        current.save(update_fields=["state", "ended_at"])
    return current


def key_set_blocked(*, key: LicenseKey, blocked: bool, actor: Actor) -> LicenseKey:
    action = "license_key.block" if blocked else "license_key.unblock"
    with audited_change(LicenseKey, key.pk, actor=actor, action=action) as current:
        if current.blocked != blocked:
            current.blocked = blocked
            current.save(update_fields=["blocked", "updated_at"])
            if blocked:
                key_blocked.send(sender=LicenseKey, key=current, moment=timezone.now())
    return current


def key_rebind(*, key: LicenseKey, client: Client, actor: Actor) -> LicenseKey:
    """Moves the key to another client."""
    with audited_change(LicenseKey, key.pk, actor=actor, action="license_key.rebind") as current:
        previous = current.client
        if previous.pk != client.pk:
            current.client = client
            current.save(update_fields=["client", "updated_at"])
            client_reindex(client=previous)
            client_reindex(client=client)
    return current


def key_update(
    *,
    key: LicenseKey,
    actor: Actor,
    blocked: bool,
    client: Client,
    client_changes: dict[str, Any] | None = None,
) -> LicenseKey:
    """The key card's save, all or nothing: changes to the own fields of the key's client, the
    key moved to another client, blocked or unblocked; each change audited as its own."""
    with transaction.atomic():
        # The client before the key, in the order a merge locks them.
        if client_changes:
            client_update(client=key.client, actor=actor, **client_changes)
        current = LicenseKey.objects.select_for_update().get(pk=key.pk)
        if client.pk != current.client_id:
            current = key_rebind(key=current, client=client, actor=actor)
        return key_set_blocked(key=current, blocked=blocked, actor=actor)


def key_delete_blockers(key: LicenseKey) -> list[str]:
    """Why the key cannot be deleted; empty when it can."""
    count = key.lines.count()
    if count:
        return [
            _("%(key)s holds %(count)d product lines; end them or move the key instead.")
            % {"key": key.number, "count": count}
        ]
    return []


def key_delete(*, key: LicenseKey, actor: Actor) -> None:
    with transaction.atomic():
        deleted = audited_delete(
            instance=key,
            actor=actor,
            action="license_key.delete",
            blockers=key_delete_blockers,
            code="key_in_use",
        )
        client_reindex(client=deleted.client)
