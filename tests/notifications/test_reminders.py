"""The expiry chain with a moving clock, the throttled problem mail and the managers' digest."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from licentia.notifications.models import MailKind, Notification
from licentia.notifications.services import (
    digests_write,
    mail_settings_update,
    problem_alerts_flush,
    reminders_write,
)
from tests.factories import StaffUserFactory, make_client, make_product
from tests.notifications.conftest import ACTOR, send_all, subject, text_part

pytestmark = pytest.mark.django_db

START = timezone.make_aware(datetime(2030, 1, 1, 12, 0))


def days(count: float) -> datetime:
    return START + timedelta(days=count)


@pytest.fixture
def key() -> LicenseKey:
    return license_key_generate(
        client=make_client(email="buh@romashka.ru", language="en"), actor=ACTOR
    )


@pytest.fixture
def product():
    return make_product(1, (10, LicenseType.USER, 1, False), name_en="Accounting")


def run_days(first: int, last: int) -> list[tuple[int, str]]:
    """The daily task at noon on each day; what it wrote, by day."""
    written = []
    for day in range(first, last + 1):
        before = set(Notification.objects.values_list("pk", flat=True))
        reminders_write(at=days(day))
        reminders_write(at=days(day) + timedelta(hours=1))  # a re-run writes nothing more
        for row in Notification.objects.exclude(pk__in=before):
            written.append((day, row.kind))
    return written


def test_a_line_not_renewed_gets_both_reminders_and_the_expired_mail_once(key, product) -> None:
    key_line_add(key=key, product=product, actor=ACTOR, starts_at=START, expires_at=days(60))

    assert run_days(0, 65) == [
        (30, MailKind.EXPIRING),
        (57, MailKind.EXPIRING),
        (60, MailKind.EXPIRED),
    ]


def test_the_second_reminder_is_skipped_when_the_line_was_renewed_after_the_first(
    key, product
) -> None:
    line = key_line_add(key=key, product=product, actor=ACTOR, starts_at=START, expires_at=days(60))
    assert run_days(0, 40) == [(30, MailKind.EXPIRING)]
    key_line_add(key=key, product=product, actor=ACTOR, starts_at=days(40), expires_at=days(425))

    assert run_days(41, 70) == []
    line.refresh_from_db()
    assert line.expires_at == days(60)


def test_an_extended_line_starts_its_chain_again_at_the_new_date(key, product) -> None:
    line = key_line_add(key=key, product=product, actor=ACTOR, starts_at=START, expires_at=days(60))
    assert run_days(0, 40) == [(30, MailKind.EXPIRING)]
    KeyLine.objects.filter(pk=line.pk).update(expires_at=days(100))

    assert run_days(41, 100) == [
        (70, MailKind.EXPIRING),
        (97, MailKind.EXPIRING),
        (100, MailKind.EXPIRED),
    ]


def test_a_perpetual_line_gets_no_reminders(key, product) -> None:
    key_line_add(key=key, product=product, actor=ACTOR, starts_at=START)
    assert run_days(0, 400) == []


def test_trials_get_reminders_unless_switched_off(key, product) -> None:
    key_line_add(
        key=key, product=product, actor=ACTOR, starts_at=START, expires_at=days(14), is_trial=True
    )
    mail_settings_update(actor=ACTOR, remind_trials=False)
    assert run_days(0, 15) == []
    mail_settings_update(actor=ACTOR, remind_trials=True)
    # Shorter than the first reminder's offset: only the second one.
    assert run_days(0, 15) == [(11, MailKind.EXPIRING), (14, MailKind.EXPIRED)]


def test_the_reminder_speaks_the_clients_language_and_reaches_the_smtp_server(
    smtp, key, product
) -> None:
    key_line_add(key=key, product=product, actor=ACTOR, starts_at=START, expires_at=days(60))
    reminders_write(at=days(57))
    send_all()

    [message] = smtp.received
    assert subject(message) == "License “Accounting” expires 2030-03-02"
    assert "3 days left" in text_part(message)


# License problems -------------------------------------------------------------------------


@pytest.fixture
def one_seat(key: LicenseKey) -> LicenseKey:
    # A bound seat stays with its host, so later hosts are refused whatever the time.
    key_line_add(key=key, product=make_product(2, (20, LicenseType.HOST, 1, False)), actor=ACTOR)
    session_capture(key_number=key.number, feature_id=20, unit=Unit("u", "first"), at=START)
    return key


def refuse(key: LicenseKey, host: str, at: datetime) -> None:
    with pytest.raises(Refusal):
        session_capture(key_number=key.number, feature_id=20, unit=Unit("u", host), at=at)


def test_the_problem_mail_is_sent_at_most_once_a_day_per_key_and_feature(one_seat) -> None:
    client = one_seat.client
    client.alert_email = "alerts@romashka.ru"
    client.save()
    refuse(one_seat, "second", START + timedelta(minutes=1))
    refuse(one_seat, "third", START + timedelta(hours=2))
    refuse(one_seat, "fourth", START + timedelta(hours=5))

    [first] = Notification.objects.filter(kind=MailKind.LICENSE_PROBLEM)
    assert first.recipient == "alerts@romashka.ru"
    assert problem_alerts_flush(at=START + timedelta(hours=23)) == 0
    assert problem_alerts_flush(at=START + timedelta(hours=25)) == 1
    assert problem_alerts_flush(at=START + timedelta(hours=26)) == 0

    second = Notification.objects.filter(kind=MailKind.LICENSE_PROBLEM).latest("id")
    assert "third" in second.text
    assert "fourth" in second.text
    assert "second" not in second.text


def test_the_problem_mail_falls_back_to_the_clients_email_without_an_alert_email(
    one_seat,
) -> None:
    refuse(one_seat, "second", START + timedelta(minutes=1))
    refuse(one_seat, "second", START + timedelta(days=1, minutes=2))

    mails = Notification.objects.filter(kind=MailKind.LICENSE_PROBLEM)
    assert [mail.recipient for mail in mails] == ["buh@romashka.ru", "buh@romashka.ru"]


def test_a_refusal_for_an_unknown_key_writes_no_mail(db) -> None:
    with pytest.raises(Refusal):
        session_capture(
            key_number="DEMO-XXXXX-XXXXX-XXXXX-XXXXX", feature_id=1, unit=Unit("u", "h")
        )
    assert Notification.objects.count() == 0


# The digest -------------------------------------------------------------------------------


def test_each_manager_gets_one_digest_a_day_of_his_own_clients(product) -> None:
    maria = StaffUserFactory(username="maria", email="maria@vendor.example")
    ivan = StaffUserFactory(username="ivan", email="ivan@vendor.example")
    StaffUserFactory(username="idle", email="idle@vendor.example")
    mine = license_key_generate(client=make_client(company="ООО Мой", manager=maria), actor=ACTOR)
    theirs = license_key_generate(
        client=make_client(company="ООО Чужой", manager=ivan), actor=ACTOR
    )
    key_line_add(key=mine, product=product, actor=ACTOR, expires_at=timezone.now() + timedelta(9))
    key_line_add(key=theirs, product=product, actor=ACTOR, expires_at=timezone.now() + timedelta(9))
    mail_settings_update(actor=ACTOR, digest_opt_out=[ivan])

    assert digests_write() == 1
    assert digests_write() == 0

    [digest] = Notification.objects.filter(kind=MailKind.MANAGER_DIGEST)
    assert digest.recipient == "maria@vendor.example"
    assert "ООО Мой" in digest.text
    assert "ООО Чужой" not in digest.text


def test_a_daily_run_that_rolls_back_leaves_its_reminders_to_the_next_run(key, product) -> None:
    key_line_add(key=key, product=product, actor=ACTOR, starts_at=START, expires_at=days(60))

    def run_then_fail() -> None:
        with transaction.atomic():
            reminders_write(at=days(30))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        run_then_fail()
    assert reminders_write(at=days(30)) == {"expiring": 1, "expired": 0}
