"""The worker's half of the outbox: claims due rows so that no two workers send one, sends each
over SMTP (or the server's configured backend), and sorts failures into temporary and permanent."""

import logging
import re
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from licentia.notifications.models import (
    MailKind,
    MailSettings,
    MailStatus,
    Notification,
    SmtpSecurity,
)
from licentia.notifications.secrets import decrypt_password
from licentia.notifications.services import mail_settings_get

logger = logging.getLogger("licentia.mail")

BATCH = 20
# Temporary failures are retried with a doubling pause (1 minute to 1 hour) for this long.
RETRY_WINDOW = timedelta(days=1)
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)
# A row claimed this long ago whose sending never finished: the worker died mid-send.
CLAIM_LEASE = timedelta(minutes=15)
SMTP_TIMEOUT = 20
# The one-time token of a client cabinet sign-in link (/my/link/<token>/), blanked once sent.
SIGN_IN_LINK = re.compile(r"/my/link/[^/\s\"'<>]+/")
SIGN_IN_LINK_SENT = "/my/link/…/"


class PermanentFailure(Exception):
    def __init__(self, message: str, *, address_refused: bool = False) -> None:
        super().__init__(message)
        self.address_refused = address_refused


def mail_backend(current: MailSettings | None = None) -> BaseEmailBackend:
    """The cabinet's SMTP server when a host is set there, else the environment's backend."""
    current = current or mail_settings_get()
    if not current.host:
        return get_connection(fail_silently=False)
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        fail_silently=False,
        host=current.host,
        port=current.port,
        username=current.username or None,
        password=decrypt_password(current.password_encrypted) or None,
        use_tls=current.security == SmtpSecurity.STARTTLS,
        use_ssl=current.security == SmtpSecurity.TLS,
        timeout=SMTP_TIMEOUT,
    )


def mail_sender(current: MailSettings | None = None) -> str:
    current = current or mail_settings_get()
    return current.sender or settings.DEFAULT_FROM_EMAIL


def smtp_check(current: MailSettings | None = None) -> str | None:
    """None when the server answers (and accepts the login); else what went wrong."""
    try:
        backend = mail_backend(current)
    except Exception as error:
        return _describe(error)
    try:
        backend.open()
    except Exception as error:
        return _describe(error)
    finally:
        backend.close()
    return None


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(message)}"
            for address, (code, message) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"[:1000]


def _text(message: bytes | str) -> str:
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


def _classify(error: BaseException) -> PermanentFailure | None:
    """A permanent failure, or None for one worth another try."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return PermanentFailure(_describe(error), address_refused=True)
        return None
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return None  # the settings are wrong, not the mail: it goes once they are fixed
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
        return PermanentFailure(_describe(error))
    return None


def outbox_claim(*, now: datetime, limit: int = BATCH) -> list[Notification]:
    """Takes due rows for this worker. On PostgreSQL FOR UPDATE SKIP LOCKED lets two workers
    claim at once without waiting and without taking the same row; SQLite runs one writer at a
    time anyway. A claimed row is `sending` before it leaves, so it is never sent twice."""
    lock = getattr(settings, "LICENTIA_OUTBOX_LOCK", True)
    with transaction.atomic():
        due = Notification.objects.filter(
            status=MailStatus.PENDING, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")
        if lock:
            due = due.select_for_update(skip_locked=True)
        rows = list(due[:limit])
        claim_hook(rows)
        for row in rows:
            row.status = MailStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
        Notification.objects.bulk_update(rows, ["status", "attempts", "next_attempt_at"])
    return rows


def claim_hook(rows: list[Notification]) -> None:
    """Nothing; the concurrency test pauses here to let two workers meet."""


def _message(row: Notification, sender: str, backend: BaseEmailBackend) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text,
        from_email=sender,
        to=[row.recipient],
        connection=backend,
        headers={"X-Licentia-Mail": f"{row.kind}/{row.pk}"},
    )
    message.attach_alternative(row.html, "text/html")
    return message


def notification_deliver(row: Notification, *, backend: BaseEmailBackend, sender: str) -> str:
    """Sends one claimed row and records the outcome; returns its new status."""
    now = timezone.now()
    try:
        _message(row, sender, backend).send()
    except Exception as error:
        permanent = _classify(error)
        row.last_error = _describe(error)
        if permanent is not None or now - row.queued_at >= RETRY_WINDOW:
            row.status = MailStatus.FAILED
            row.address_refused = permanent is not None and permanent.address_refused
        else:
            pause = min(FIRST_PAUSE * 2 ** (row.attempts - 1), LONGEST_PAUSE)
            row.status = MailStatus.PENDING
            row.next_attempt_at = now + pause
        logger.warning(
            "mail %s to %s not sent (%s): %s", row.pk, row.recipient, row.status, row.last_error
        )
    else:
        row.status, row.sent_at, row.last_error = MailStatus.SENT, now, ""
        logger.info("mail %s sent to %s: %s", row.pk, row.recipient, row.subject)
        if row.kind == MailKind.CLIENT_SIGN_IN:
            # The link opens a client's cabinet: once it has left, the outbox keeps none.
            row.html = SIGN_IN_LINK.sub(SIGN_IN_LINK_SENT, row.html)
            row.text = SIGN_IN_LINK.sub(SIGN_IN_LINK_SENT, row.text)
    row.save(
        update_fields=[
            "status",
            "sent_at",
            "last_error",
            "next_attempt_at",
            "address_refused",
            "html",
            "text",
        ]
    )
    return row.status


def outbox_recover(*, now: datetime) -> int:
    """Rows a dead worker left `sending`: whether they left is unknown, so they are marked
    failed for a person to look at and send again, rather than risk sending twice."""
    return Notification.objects.filter(status=MailStatus.SENDING, next_attempt_at__lt=now).update(
        status=MailStatus.FAILED,
        last_error="The worker stopped while sending; the mail may not have left. "
        "Send it again if it did not arrive.",
    )


def outbox_send_due(*, max_batches: int = 50) -> dict[str, int]:
    """Sends what is due, a batch at a time, until nothing is due."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    outbox_recover(now=timezone.now())
    current = mail_settings_get()
    try:
        backend, sender = mail_backend(current), mail_sender(current)
    except Exception:
        # E.g. a password stored under another SECRET_KEY: nothing is claimed, nothing is lost.
        logger.exception("mail cannot be sent with the current mail settings")
        return counts
    for _batch in range(max_batches):
        rows = outbox_claim(now=timezone.now())
        if not rows:
            break
        for row in rows:
            status = notification_deliver(row, backend=backend, sender=sender)
            counts[{"sent": "sent", "failed": "failed"}.get(status, "retry")] += 1
    return counts


def notification_send_now(row: Notification) -> str:
    """Sends one row at once (the cabinet's test mail), claiming it like the worker does."""
    try:
        backend, sender = mail_backend(), mail_sender()
    except Exception as error:
        Notification.objects.filter(pk=row.pk).update(last_error=_describe(error))
        return row.status
    with transaction.atomic():
        claimed = (
            Notification.objects.select_for_update()
            .filter(pk=row.pk, status=MailStatus.PENDING)
            .first()
        )
        if claimed is None:
            return row.status
        claimed.status, claimed.attempts = MailStatus.SENDING, claimed.attempts + 1
        claimed.save(update_fields=["status", "attempts"])
    return notification_deliver(claimed, backend=backend, sender=sender)
