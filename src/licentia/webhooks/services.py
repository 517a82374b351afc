"""Webhooks: set up by the vendor, written as deliveries in the transaction of each event."""

import contextlib
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.core.audit import Actor, audit_record, audited_change, snapshot
from licentia.core.process_cache import ProcessCache
from licentia.core.sealing import seal, unseal
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine
from licentia.keys.selectors import lines_ending
from licentia.webhooks.models import DeliveryStatus, Event, Webhook, WebhookDelivery

_PURPOSE = b"licentia/webhook-secret/v1"
SECRET_BYTES = 32
# Expired lines are looked for this far back: a worker stopped for a while still tells of them.
EXPIRED_LOOKBACK = timedelta(days=3)

# Every event asks for them, refused captures on the protocol's path included.
active_webhooks: ProcessCache[list[Webhook]] = ProcessCache(
    lambda: list(Webhook.objects.filter(active=True)), cleared_by=[Webhook]
)


def webhook_secret(webhook: Webhook) -> str:
    return unseal(
        webhook.secret_sealed, purpose=_PURPOSE, bound_to=str(webhook.pk).encode()
    ).decode()


def _clean(url: str, events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    errors: dict[str, str] = {}
    if not url.startswith(("http://", "https://")):
        errors["url"] = _("Enter an http:// or https:// URL.")
    unknown = set(chosen) - set(Event.values)
    if unknown or not chosen:
        errors["events"] = _("Choose events from the list.")
    if errors:
        raise ValidationError(errors)
    return chosen


def webhook_create(
    *,
    url: str,
    events: Iterable[str],
    actor: Actor,
    secret: str = "",
    active: bool = True,
    comment: str = "",
) -> Webhook:
    chosen = _clean(url, events)
    with transaction.atomic():
        webhook = Webhook.objects.create(url=url, events=chosen, active=active, comment=comment)
        _set_secret(webhook, secret or secrets.token_urlsafe(SECRET_BYTES))
        audit_record(
            actor=actor, action="webhook.create", instance=webhook, after=snapshot(webhook)
        )
    return webhook


def webhook_update(
    *,
    webhook: Webhook,
    actor: Actor,
    url: str,
    events: Iterable[str],
    active: bool,
    comment: str = "",
    secret: str = "",
) -> Webhook:
    chosen = _clean(url, events)
    with audited_change(Webhook, webhook.pk, actor=actor, action="webhook.update") as current:
        current.url = url
        current.events = chosen
        current.active = active
        current.comment = comment
        current.save()
        if secret:
            _set_secret(current, secret)
    return current


def _set_secret(webhook: Webhook, secret: str) -> None:
    webhook.secret_sealed = seal(
        secret.encode(), purpose=_PURPOSE, bound_to=str(webhook.pk).encode()
    )
    webhook.save(update_fields=["secret_sealed"])


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def deliveries_write(*, event: str, data: dict[str, Any], dedupe_key: str = "") -> int:
    """A delivery of the event to every active webhook that wants it, in the caller's
    transaction (so it exists exactly when the event does); the worker sends it. With a
    `dedupe_key`, a webhook gets the event once whatever the number of calls."""
    hooks = [hook for hook in active_webhooks.get() if event in hook.events]
    if not hooks:
        return 0
    now = timezone.now()
    rows = [
        WebhookDelivery(
            webhook=hook,
            event=event,
            dedupe_key=dedupe_key[:200],
            payload={},
            next_attempt_at=now,
            created_at=now,
        )
        for hook in hooks
    ]
    for row in rows:
        row.payload = _jsonable(
            {"id": str(row.delivery_id), "event": event, "created_at": now, "data": data}
        )
    if dedupe_key:
        wanted = {hook.pk for hook in hooks} - set(
            WebhookDelivery.objects.filter(
                webhook__in=hooks, dedupe_key=dedupe_key[:200]
            ).values_list("webhook_id", flat=True)
        )
        rows = [row for row in rows if row.webhook_id in wanted]
        if not rows:
            return 0
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    else:
        WebhookDelivery.objects.bulk_create(rows)
    transaction.on_commit(_kick_worker)
    return len(rows)


def _kick_worker() -> None:
    from licentia.webhooks.tasks import send_webhooks

    # When the queue cannot take it, the periodic run sends it a minute later.
    with contextlib.suppress(Exception):
        send_webhooks.enqueue()


def delivery_replay(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Sends the delivery again (the same body and id), whatever became of it."""
    with audited_change(
        WebhookDelivery, delivery.pk, actor=actor, action="webhook_delivery.replay"
    ) as current:
        current.status = DeliveryStatus.PENDING
        current.next_attempt_at = timezone.now()
        current.created_at = timezone.now()
        current.save(update_fields=["status", "next_attempt_at", "created_at"])
    transaction.on_commit(_kick_worker)
    return current


def line_data(line: KeyLine) -> dict[str, Any]:
    return {
        "key": line.key.number,
        "client_id": line.key.client_id,
        "line_id": line.pk,
        "product_id": line.product_id,
        "product": line.product.name_ru,
        "is_trial": line.is_trial,
        "expires_at": line.expires_at,
    }


def line_events_write(*, at: datetime | None = None) -> dict[str, int]:
    """line.expiring for lines ending within the first reminder's days, line.expired for
    lines that ended lately; each once per line and expiry."""
    moment = at or timezone.now()
    wanted = {event for hook in Webhook.objects.filter(active=True) for event in hook.events}
    counts = {"expiring": 0, "expired": 0}
    if Event.LINE_EXPIRING in wanted:
        days = vendor_settings_get().first_reminder_days
        for line in lines_ending(start=moment, end=moment + timedelta(days=days), trials=True):
            with transaction.atomic():
                counts["expiring"] += deliveries_write(
                    event=Event.LINE_EXPIRING,
                    data=line_data(line),
                    dedupe_key=f"line.expiring:{line.pk}:{line.expires_at}",
                )
    if Event.LINE_EXPIRED in wanted:
        for line in lines_ending(start=moment - EXPIRED_LOOKBACK, end=moment, trials=True):
            with transaction.atomic():
                counts["expired"] += deliveries_write(
                    event=Event.LINE_EXPIRED,
                    data=line_data(line),
                    dedupe_key=f"line.expired:{line.pk}:{line.expires_at}",
                )
    return counts
