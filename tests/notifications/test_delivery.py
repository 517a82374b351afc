"""The outbox against a real SMTP server: temporary failures come later, permanent ones are
marked, a refused address shows, and the password is kept encrypted."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from licentia.core.models import AuditEvent
from licentia.keys.services import key_line_add, license_key_generate
from licentia.notifications.delivery import outbox_send_due, smtp_check
from licentia.notifications.models import MailSettings, MailStatus, Notification
from licentia.notifications.secrets import decrypt_password
from licentia.notifications.services import mail_settings_update, notify_coupon_activated
from tests.factories import make_client
from tests.notifications.conftest import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(trial_product) -> Notification:
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    with transaction.atomic():
        [row] = notify_coupon_activated(
            key=key,
            coupon="DEMOUPD-1",
            lines=[key_line_add(key=key, product=trial_product, actor=ACTOR)],
        )
    return row


def test_a_server_answering_4xx_gets_the_mail_later(smtp, queued) -> None:
    smtp.data_reply = "451 Try again later"
    assert outbox_send_due() == {"sent": 0, "failed": 0, "retry": 1}
    row = Notification.objects.get()
    assert row.status == MailStatus.PENDING
    assert row.last_error == "451 Try again later"
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert outbox_send_due() == {"sent": 0, "failed": 0, "retry": 0}  # not due yet

    smtp.data_reply = "250 OK"
    Notification.objects.update(next_attempt_at=timezone.now())
    assert outbox_send_due()["sent"] == 1
    assert [m["To"] for m in smtp.received] == ["buh@romashka.ru"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 2, "")


def test_the_pause_between_tries_doubles(smtp, queued) -> None:
    smtp.data_reply = "421 Busy"
    pauses = []
    for _attempt in range(3):
        Notification.objects.update(next_attempt_at=timezone.now())
        before = timezone.now()
        outbox_send_due()
        pauses.append((Notification.objects.get().next_attempt_at - before).total_seconds())
    assert [round(p / 60) for p in pauses] == [1, 2, 4]


def test_a_temporary_failure_after_a_day_of_tries_is_marked_failed(smtp, queued) -> None:
    smtp.data_reply = "451 Try again later"
    Notification.objects.update(queued_at=timezone.now() - timedelta(days=1, minutes=1))
    outbox_send_due()
    assert Notification.objects.get().status == MailStatus.FAILED


def test_a_server_answering_5xx_marks_the_mail_failed_for_good(smtp, queued) -> None:
    smtp.data_reply = "554 Message rejected"
    assert outbox_send_due() == {"sent": 0, "failed": 1, "retry": 0}
    row = Notification.objects.get()
    assert (row.status, row.last_error, row.address_refused) == (
        MailStatus.FAILED,
        "554 Message rejected",
        False,
    )
    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(days=1))
    outbox_send_due()
    assert smtp.received == []


def test_a_refused_address_is_marked_on_the_mail(smtp, queued) -> None:
    smtp.refused["buh@romashka.ru"] = "550 No such user"
    outbox_send_due()
    row = Notification.objects.get()
    assert row.status == MailStatus.FAILED
    assert row.address_refused is True
    assert "550" in row.last_error


def test_an_unreachable_server_is_a_temporary_failure(db, queued) -> None:
    mail_settings_update(actor=ACTOR, host="127.0.0.1", port=1, security="none")
    outbox_send_due()
    row = Notification.objects.get()
    assert row.status == MailStatus.PENDING
    assert "ConnectionRefusedError" in row.last_error


def test_the_smtp_password_is_stored_encrypted_and_never_logged(db) -> None:
    mail_settings_update(actor=ACTOR, host="smtp.example", username="u", password="s3cret-pw")
    stored = MailSettings.objects.get().password_encrypted
    assert "s3cret-pw" not in stored
    assert decrypt_password(stored) == "s3cret-pw"
    event = AuditEvent.objects.filter(action="mail_settings.update").latest("id")
    assert "s3cret" not in str(event.before) + str(event.after)
    assert "password_encrypted" not in str(event.after)
    assert event.after["password_changed"] is True

    mail_settings_update(actor=ACTOR, sender="a@b.example")
    assert decrypt_password(MailSettings.objects.get().password_encrypted) == "s3cret-pw"


def test_the_connection_check_tells_a_working_server_from_a_dead_one(smtp) -> None:
    assert smtp_check() is None
    mail_settings_update(actor=ACTOR, port=1)
    assert "ConnectionRefusedError" in (smtp_check() or "")


def test_a_password_that_cannot_be_decrypted_claims_nothing_and_loses_nothing(smtp, queued) -> None:
    MailSettings.objects.update(password_encrypted="v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert outbox_send_due() == {"sent": 0, "failed": 0, "retry": 0}
    assert Notification.objects.get().status == MailStatus.PENDING
    assert "cannot be decrypted" in (smtp_check() or "")
