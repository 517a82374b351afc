"""Every kind, caused the way it is caused in real life, reaches the real SMTP server: the
right addresses, the client's language, an HTML and a text part."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from licentia.catalog.models import Feature, LicenseType, Product
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from licentia.notifications.models import MailKind, MailTemplate
from licentia.notifications.services import (
    digests_write,
    notify_coupon_activated,
    notify_new_trial,
    reminders_write,
)
from tests.factories import DistributorFactory, StaffUserFactory, make_client, make_product
from tests.notifications.conftest import ACTOR, html_part, send_all, subject, text_part

pytestmark = pytest.mark.django_db

SUBJECT_STARTS = {
    MailKind.NEW_TRIAL: "Trial license for",
    MailKind.COUPON_ACTIVATED: "Coupon DEMOUPD-1 activated",
    MailKind.LICENSE_PROBLEM: "Licenses short: Feature 10",
    MailKind.EXPIRING: "License “Product 1” expires",
    MailKind.EXPIRED: "License “Product 1” has expired",
    MailKind.NEW_KEY: "New license key for",
}


def cause_every_client_kind(client_fields: dict, manager) -> None:
    MailTemplate.objects.filter(kind=MailKind.NEW_KEY).update(enabled=True)
    client = make_client(language="en", manager=manager, **client_fields)
    key = license_key_generate(client=client, actor=Actor.staff(manager))
    product = make_product(1, (10, LicenseType.HOST, 1, False), name_en="Product 1")
    Feature.objects.filter(pk=10).update(name_en="Feature 10")
    now = timezone.now()
    trial_product = make_product(3, (10, LicenseType.HOST, 1, False))
    trial = key_line_add(key=key, product=trial_product, actor=ACTOR, is_trial=True)
    with transaction.atomic():
        notify_new_trial(line=trial, key=key)
        notify_coupon_activated(key=key, coupon="DEMOUPD-1", lines=[trial])
    key_line_add(
        key=key,
        product=product,
        actor=ACTOR,
        starts_at=now - timedelta(days=300),
        expires_at=now + timedelta(days=2),
    )
    for host in ("first", "second"):  # the trial's seat and the paid line's
        session_capture(key_number=key.number, feature_id=10, unit=Unit("u", host))
    with pytest.raises(Refusal):
        session_capture(key_number=key.number, feature_id=10, unit=Unit("u", "third"))
    other = license_key_generate(client=client, actor=ACTOR)
    key_line_add(
        key=other,
        product=make_product(2, name_en="Product 2"),
        actor=ACTOR,
        starts_at=now - timedelta(days=300),
        expires_at=now - timedelta(hours=1),
    )
    Product.objects.filter(pk=2).update(name_en="Product 1")
    reminders_write()


def test_each_kind_reaches_the_client_and_a_copy_the_manager_in_english(smtp) -> None:
    manager = StaffUserFactory(username="maria", email="maria@vendor.example", language="ru")
    cause_every_client_kind({"email": "it@daisy.example"}, manager)
    digests_write()
    send_all()

    to_client = {m["X-Licentia-Mail"].split("/")[0]: m for m in smtp.to("it@daisy.example")}
    assert set(to_client) == set(SUBJECT_STARTS)
    for kind, message in to_client.items():
        assert subject(message).startswith(SUBJECT_STARTS[kind]), kind
        assert html_part(message).lstrip().startswith("<div>")
        assert "ООО Ромашка" in text_part(message)
        assert "<div>" not in text_part(message)
    copies = [m["X-Licentia-Mail"].split("/")[0] for m in smtp.to("maria@vendor.example")]
    assert sorted(copies) == sorted([*SUBJECT_STARTS, MailKind.MANAGER_DIGEST])
    [digest] = [
        m for m in smtp.to("maria@vendor.example") if "manager_digest" in m["X-Licentia-Mail"]
    ]
    assert subject(digest).startswith("Сводка по клиентам за")  # the manager's own language
    assert len(smtp.received) == 2 * len(SUBJECT_STARTS) + 1


def test_problems_go_to_the_alert_email_and_the_rest_to_the_email(smtp) -> None:
    manager = StaffUserFactory(username="maria", email="maria@vendor.example")
    cause_every_client_kind(
        {"email": "it@daisy.example", "alert_email": "ops@daisy.example"}, manager
    )
    send_all()

    assert [m["X-Licentia-Mail"].split("/")[0] for m in smtp.to("ops@daisy.example")] == [
        MailKind.LICENSE_PROBLEM
    ]
    assert MailKind.LICENSE_PROBLEM not in {
        m["X-Licentia-Mail"].split("/")[0] for m in smtp.to("it@daisy.example")
    }


def test_a_distributor_with_an_email_gets_every_kind_instead_of_the_client(smtp) -> None:
    manager = StaffUserFactory(username="maria", email="maria@vendor.example")
    partner = DistributorFactory(email="partner@dist.example")
    cause_every_client_kind(
        {"email": "it@daisy.example", "alert_email": "ops@daisy.example", "distributor": partner},
        manager,
    )
    send_all()

    assert smtp.to("it@daisy.example") == smtp.to("ops@daisy.example") == []
    to_partner = smtp.to("partner@dist.example")
    assert {m["X-Licentia-Mail"].split("/")[0] for m in to_partner} == set(SUBJECT_STARTS)
    assert all("This mail concerns your client ООО Ромашка." in text_part(m) for m in to_partner)
