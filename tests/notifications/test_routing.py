"""Each kind of mail reaches exactly the right addresses, in the client's language, with HTML
and text parts, through a real SMTP server."""

import pytest
from django.db import transaction
from django.utils import timezone

from licentia.core.audit import Actor
from licentia.coupons.models import CouponKind, Door
from licentia.coupons.services import Row, coupon_activate, coupon_batch_generate
from licentia.keys.models import KeyLine
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.services.trials import trial_register
from licentia.licensing.units import Unit
from licentia.notifications.models import MailKind, MailTemplate, Notification
from licentia.notifications.services import notify_coupon_activated, notify_new_trial
from tests.factories import DistributorFactory, StaffUserFactory, make_client, make_product
from tests.notifications.conftest import ACTOR, html_part, send_all, subject, text_part

pytestmark = pytest.mark.django_db


def register_trial(email: str = "buh@romashka.ru", language: str = "ru", **questionnaire: str):
    return trial_register(
        product_id=100,
        questionnaire={"company": "ООО Ромашка", "contact": "Иван Петров", "email": email}
        | questionnaire,
        unit=Unit("Иванов", "buh-01"),
        fingerprint={"machine_id": email},
        language=language,
    )


def test_a_new_trial_reaches_the_client_in_russian_with_html_and_text_and_the_activation_text(
    smtp, trial_product, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        outcome = register_trial()
    send_all()

    [message] = smtp.to("buh@romashka.ru")
    assert subject(message) == f"Пробная лицензия для ООО Ромашка: ключ {outcome.key.number}"
    assert message["From"] == "Licentia <licensing@vendor.example>"
    assert "Откройте Сервис → Лицензии." in html_part(message)
    assert "<strong>Продукт 100</strong>" in html_part(message)
    assert "Здравствуйте, Иван Петров!" in text_part(message)
    assert "<" not in text_part(message)
    assert len(smtp.received) == 1


def test_an_english_client_gets_the_english_trial_mail(
    smtp, trial_product, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        register_trial(email="it@daisy.example", language="en")
    send_all()

    [message] = smtp.to("it@daisy.example")
    assert subject(message).startswith("Trial license for ООО Ромашка")
    assert "Open Service → Licenses." in text_part(message)
    assert "Accounting PRO" in html_part(message)


def test_a_distributor_with_an_email_gets_the_mail_instead_and_the_manager_a_copy(
    smtp, trial_product
) -> None:
    manager = StaffUserFactory(username="maria", email="maria@vendor.example")
    partner = DistributorFactory(email="partner@dist.example")
    client = make_client(email="buh@romashka.ru", distributor=partner, manager=manager)
    key = license_key_generate(client=client, actor=ACTOR)
    line = key_line_add(key=key, product=trial_product, actor=ACTOR, is_trial=True)
    with transaction.atomic():
        notify_new_trial(line=line, key=key)
    send_all()

    assert smtp.to("buh@romashka.ru") == []
    [to_partner] = smtp.to("partner@dist.example")
    assert "Письмо о вашем клиенте ООО Ромашка." in text_part(to_partner)
    [copy] = smtp.to("maria@vendor.example")
    assert "Копия письма о вашем клиенте ООО Ромашка, отправленного на partner@dist.example" in (
        text_part(copy)
    )
    assert len(smtp.received) == 2


def test_a_distributor_without_an_email_leaves_the_mail_with_the_client(smtp, trial_product):
    client = make_client(email="buh@romashka.ru", distributor=DistributorFactory(email=""))
    key = license_key_generate(client=client, actor=ACTOR)
    line = key_line_add(key=key, product=trial_product, actor=ACTOR, is_trial=True)
    with transaction.atomic():
        notify_new_trial(line=line, key=key)
    send_all()

    assert [m["To"] for m in smtp.received] == ["buh@romashka.ru"]


def test_an_empty_address_gets_nothing_but_the_manager_still_gets_his_copy(
    smtp, trial_product
) -> None:
    manager = StaffUserFactory(username="maria", email="maria@vendor.example")
    key = license_key_generate(client=make_client(email="", manager=manager), actor=ACTOR)
    with transaction.atomic():
        notify_coupon_activated(
            key=key,
            coupon="DEMOUPD-1",
            lines=[key_line_add(key=key, product=trial_product, actor=ACTOR)],
        )
    send_all()

    assert [m["To"] for m in smtp.received] == ["maria@vendor.example"]
    assert Notification.objects.get().role == "manager_copy"


def test_a_coupon_activation_lists_each_products_activation_text(smtp, trial_product) -> None:
    second = make_product(200, activation_text_ru="Перезапустите программу.")
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    lines = [
        key_line_add(key=key, product=trial_product, actor=ACTOR),
        key_line_add(
            key=key, product=second, actor=ACTOR, expires_at=timezone.now() + timezone.timedelta(9)
        ),
    ]
    with transaction.atomic():
        notify_coupon_activated(key=key, coupon="DEMOUPD-ABCDE", lines=lines)
    send_all()

    [message] = smtp.received
    assert subject(message) == f"Купон DEMOUPD-ABCDE активирован: ключ {key.number}"
    body = text_part(message)
    assert "Откройте Сервис → Лицензии." in body
    assert "Перезапустите программу." in body
    assert "Бессрочная" in body


def test_a_key_a_manager_generates_is_mailed_only_once_the_kind_is_switched_on(
    smtp, full_access_user
) -> None:
    client = make_client(email="buh@romashka.ru")
    license_key_generate(client=client, actor=Actor.staff(full_access_user))
    assert Notification.objects.count() == 0

    MailTemplate.objects.filter(kind=MailKind.NEW_KEY, language="ru").update(enabled=True)
    key = license_key_generate(client=client, actor=Actor.staff(full_access_user))
    license_key_generate(client=client, actor=Actor.system("application"))
    send_all()

    [message] = smtp.received
    assert key.number in subject(message) or key.number in text_part(message)


def test_a_trial_key_gets_the_trial_mail_and_not_the_new_key_mail(
    smtp, trial_product, django_capture_on_commit_callbacks
) -> None:
    MailTemplate.objects.filter(kind=MailKind.NEW_KEY).update(enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        register_trial()
    send_all()

    assert [n.kind for n in Notification.objects.all()] == [MailKind.NEW_TRIAL]


def test_a_switched_off_template_writes_no_mail(
    smtp, trial_product, django_capture_on_commit_callbacks
) -> None:
    MailTemplate.objects.filter(kind=MailKind.NEW_TRIAL, language="en").update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        register_trial(email="it@daisy.example", language="en")
        register_trial(email="buh@romashka.ru", company="ООО Лютик")
    send_all()

    assert [m["To"] for m in smtp.received] == ["buh@romashka.ru"]


def test_nothing_is_written_to_the_outbox_when_the_causing_transaction_rolls_back(
    trial_product,
) -> None:
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)

    class Undo(Exception):
        pass

    def activate_then_fail() -> None:
        with transaction.atomic():
            notify_coupon_activated(
                key=key,
                coupon="DEMOUPD-1",
                lines=[key_line_add(key=key, product=trial_product, actor=ACTOR)],
            )
            assert Notification.objects.count() == 1
            raise Undo

    with pytest.raises(Undo):
        activate_then_fail()

    assert Notification.objects.count() == 0
    assert KeyLine.objects.count() == 0


def test_activating_a_coupon_mails_the_products_it_gave_and_not_the_trial_it_ended(
    smtp, trial_product
) -> None:
    purchase = make_product(200, activation_text_ru="Перезапустите программу.")
    purchase.ends_trials.add(trial_product)
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    key_line_add(key=key, product=trial_product, actor=ACTOR, is_trial=True)
    batch = coupon_batch_generate(
        kind=CouponKind.NEW_PRODUCT, rows=[Row(product=purchase)], actor=ACTOR
    )

    coupon_activate(
        key_number=key.number, code=batch.coupons.get().code, door=Door.CABINET, actor=ACTOR
    )
    send_all()

    [message] = smtp.received
    assert subject(message) == (f"Купон {batch.coupons.get().code} активирован: ключ {key.number}")
    body = text_part(message)
    assert "Перезапустите программу." in body
    assert "Откройте Сервис → Лицензии." not in body


def test_the_activation_text_reaches_the_mail_as_the_html_it_was_written_in(
    smtp, trial_product
) -> None:
    product = make_product(200, activation_text_ru="<p>Перезапустите <b>программу</b>.</p>")
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    line = key_line_add(key=key, product=product, actor=ACTOR)
    with transaction.atomic():
        notify_coupon_activated(key=key, coupon="DEMOUPD-ABCDE", lines=[line])
    send_all()

    [message] = smtp.received
    assert "<b>программу</b>" in html_part(message)
    assert "&lt;b&gt;" not in html_part(message)
