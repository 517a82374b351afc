"""The worker's half of webhooks: claims due deliveries so that no two workers send one (FOR
UPDATE SKIP LOCKED on PostgreSQL), POSTs each signed, and retries failures with a doubling
pause for a day.

Signature: `X-Licentia-Signature: sha256=<hex>`, the HMAC-SHA256 under the webhook's secret of
`<X-Licentia-Timestamp>.<body>` (the timestamp in Unix seconds, a dot, the raw body bytes)."""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from licentia.core.sealing import UnsealError
from licentia.webhooks.models import DeliveryStatus, WebhookDelivery
from licentia.webhooks.services import webhook_secret

logger = logging.getLogger("licentia.webhooks")

BATCH = 20
RETRY_WINDOW = timedelta(days=1)
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)
# A delivery claimed this long ago whose sending never finished: the worker died mid-send.
CLAIM_LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 10
KEPT_ANSWER = 2000


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def deliveries_claim(*, now: datetime, limit: int = BATCH) -> list[WebhookDelivery]:
    """Takes due deliveries for this worker; a claimed one is `sending` with a lease, so no
    other worker takes it until the lease ends."""
    lock = getattr(settings, "LICENTIA_WEBHOOK_LOCK", True)
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.filter(
                Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING),
                next_attempt_at__lte=now,
            )
            .select_related("webhook")
            .order_by("next_attempt_at", "id")
        )
        if lock:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due[:limit])
        claim_hook(rows)
        for row in rows:
            row.status = DeliveryStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
        WebhookDelivery.objects.bulk_update(rows, ["status", "attempts", "next_attempt_at"])
    return rows


def claim_hook(rows: list[WebhookDelivery]) -> None:
    """Nothing; the concurrency test pauses here to let two workers meet."""


def _post(row: WebhookDelivery) -> tuple[int, str]:
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the vendor's own http(s) URL
        row.webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Licentia-Webhooks/1",
            "X-Licentia-Event": row.event,
            "X-Licentia-Delivery": str(row.delivery_id),
            "X-Licentia-Timestamp": timestamp,
            "X-Licentia-Signature": signature(webhook_secret(row.webhook), timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, answer.read(KEPT_ANSWER).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(KEPT_ANSWER).decode(errors="replace")


def delivery_send(row: WebhookDelivery) -> str:
    """Sends one claimed delivery and records the outcome; returns its new status."""
    try:
        status, answer = _post(row)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except (OSError, ValueError, UnsealError) as failure:
        status, answer, error = 0, "", f"{type(failure).__name__}: {failure}"[:1000]
    now = timezone.now()
    row.response_status = status or None
    row.response_body = answer
    row.last_error = error
    if not error:
        row.status = DeliveryStatus.SENT
        row.sent_at = now
    elif now - row.created_at >= RETRY_WINDOW:
        row.status = DeliveryStatus.FAILED
    else:
        pause = min(FIRST_PAUSE * 2 ** max(row.attempts - 1, 0), LONGEST_PAUSE)
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now + pause
    fields = ["status", "sent_at", "response_status", "response_body", "last_error"]
    # Only while this worker still holds the claim: a replay meanwhile starts anew.
    WebhookDelivery.objects.filter(pk=row.pk, status=DeliveryStatus.SENDING).update(
        **{name: getattr(row, name) for name in [*fields, "next_attempt_at"]}
    )
    if error:
        logger.warning("webhook %s to %s: %s", row.event, row.webhook.url, error)
    return row.status


def deliveries_send_due() -> dict[str, int]:
    counts = {"sent": 0, "retry": 0, "failed": 0}
    while True:
        rows = deliveries_claim(now=timezone.now())
        if not rows:
            return counts
        for row in rows:
            outcome = delivery_send(row)
            key = {DeliveryStatus.SENT: "sent", DeliveryStatus.FAILED: "failed"}.get(
                DeliveryStatus(outcome), "retry"
            )
            counts[key] += 1
