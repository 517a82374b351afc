"""Настройки → Почта, Почтовые шаблоны, Исходящая почта, and the cards' links to their mail."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse

from licentia.core.models import AuditEvent
from licentia.core.roles import SALES, SUPPORT
from licentia.keys.services import key_line_add, license_key_generate
from licentia.notifications.models import (
    MailKind,
    MailSettings,
    MailStatus,
    MailTemplate,
    Notification,
)
from licentia.notifications.secrets import decrypt_password
from licentia.notifications.services import notify_coupon_activated
from tests.factories import StaffUserFactory, make_client
from tests.notifications.conftest import ACTOR, send_all, subject

pytestmark = pytest.mark.django_db


def template(kind: str = MailKind.NEW_TRIAL, language: str = "ru") -> MailTemplate:
    return MailTemplate.objects.get(kind=kind, language=language)


def change_url(row: MailTemplate) -> str:
    return reverse("admin:notifications_mailtemplate_change", args=[row.pk])


def test_the_template_list_shows_every_kind_in_both_languages(manager_client) -> None:
    MailTemplate.objects.all().delete()
    page = manager_client.get(reverse("admin:notifications_mailtemplate_changelist"))
    assert MailTemplate.objects.count() == 2 * (len(MailKind) - 1)
    assert "сводка менеджеру" in page.content.decode()


def test_an_edited_template_is_saved_audited_and_used(manager_client) -> None:
    row = template()
    response = manager_client.post(
        change_url(row),
        {"subject": "Ключ {{ key }}", "html": "<div>Привет, {{ company }}</div>", "enabled": "on"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.subject == "Ключ {{ key }}"
    event = AuditEvent.objects.get(action="mail_template.update")
    assert event.after["subject"] == "Ключ {{ key }}"
    assert "Пробная лицензия" in event.before["subject"]


def test_a_template_that_does_not_render_cannot_be_saved_and_the_error_shows_the_line(
    manager_client,
) -> None:
    row = template()
    response = manager_client.post(
        change_url(row),
        {
            "subject": "ok",
            "html": "<div>a</div>\n<div>{% for p in products %}</div>",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "строка 2" in response.content.decode()
    row.refresh_from_db()
    assert row.subject != "ok"


def test_an_unknown_variable_is_refused_with_its_name(manager_client) -> None:
    response = manager_client.post(
        change_url(template()),
        {"subject": "{{ compnay }}", "html": "<div>x</div>", "enabled": "on"},
    )
    assert "compnay" in response.content.decode()


def test_the_preview_renders_sample_data_escaped(manager_client) -> None:
    row = template()
    row.html = "<div>{{ company }}</div><div>{{ '<b>' }}</div>"
    row.save()
    page = manager_client.get(
        reverse("admin:notifications_mailtemplate_detail_preview", args=[row.pk])
    ).content.decode()
    assert "ООО Ромашка" in page
    assert "&amp;lt;b&amp;gt;" in page  # escaped by the template, again by the srcdoc attribute


def test_a_test_mail_goes_to_the_current_user_through_the_smtp_server(
    smtp, manager_client, full_access_user
) -> None:
    row = template(language="en")
    response = manager_client.post(
        reverse("admin:notifications_mailtemplate_detail_send_test", args=[row.pk]), follow=True
    )
    assert "manager@example.com" in response.content.decode()
    [message] = smtp.received
    assert message["To"] == full_access_user.email
    assert subject(message) == "Trial license for ООО Ромашка: key DEMO-ABCDE-FGHJK-LMNPQ-RSTUV"


def test_reset_brings_back_the_shipped_template_and_keeps_the_switch(manager_client) -> None:
    row = template()
    row.subject, row.enabled = "своё", False
    row.save()
    manager_client.post(reverse("admin:notifications_mailtemplate_detail_reset", args=[row.pk]))
    row.refresh_from_db()
    assert row.subject.startswith("Пробная лицензия")
    assert row.enabled is False


def test_mail_settings_keep_the_password_encrypted_and_out_of_the_log(manager_client) -> None:
    url = reverse("admin:notifications_mailsettings_change", args=[1])
    manager_client.get(reverse("admin:notifications_mailsettings_changelist"))
    form = {
        "host": "smtp.vendor.example",
        "port": "465",
        "security": "tls",
        "username": "mailer",
        "password": "pa55-word",
        "sender": "licensing@vendor.example",
        "remind_trials": "on",
    }
    assert manager_client.post(url, form).status_code == 302
    stored = MailSettings.objects.get()
    assert (stored.host, stored.port, stored.security) == ("smtp.vendor.example", 465, "tls")
    assert decrypt_password(stored.password_encrypted) == "pa55-word"
    page = manager_client.get(url).content.decode()
    assert "pa55-word" not in page
    manager_client.post(url, {**form, "password": ""})
    assert decrypt_password(MailSettings.objects.get().password_encrypted) == "pa55-word"
    events = AuditEvent.objects.filter(action="mail_settings.update")
    assert events.count() == 2
    assert all("pa55" not in str(e.before) + str(e.after) for e in events)


def test_check_connection_says_whether_the_server_answers(smtp, manager_client) -> None:
    url = reverse("admin:notifications_mailsettings_detail_check_connection", args=[1])
    assert "отвечает" in manager_client.get(url, follow=True).content.decode()
    MailSettings.objects.update(port=1)
    assert "ConnectionRefusedError" in manager_client.get(url, follow=True).content.decode()


@pytest.fixture
def failed_mail(smtp, trial_product) -> Notification:
    key = license_key_generate(client=make_client(email="buh@romashka.ru"), actor=ACTOR)
    with transaction.atomic():
        notify_coupon_activated(
            key=key,
            coupon="DEMOUPD-1",
            lines=[key_line_add(key=key, product=trial_product, actor=ACTOR)],
        )
    smtp.refused["buh@romashka.ru"] = "550 No such user"
    send_all()
    return Notification.objects.get()


def test_the_outbox_lists_the_mail_with_its_error_and_sends_it_again(
    smtp, failed_mail, manager_client
) -> None:
    page = manager_client.get(reverse("admin:notifications_notification_changelist"))
    assert "550 No such user" in page.content.decode()

    del smtp.refused["buh@romashka.ru"]
    manager_client.post(
        reverse("admin:notifications_notification_detail_resend", args=[failed_mail.pk])
    )
    failed_mail.refresh_from_db()
    assert failed_mail.status == MailStatus.PENDING
    send_all()
    assert [m["To"] for m in smtp.received] == ["buh@romashka.ru"]
    assert AuditEvent.objects.filter(action="notification.resend").count() == 1


def test_the_client_card_shows_a_refused_address_and_links_to_its_mail(
    failed_mail, manager_client
) -> None:
    client = failed_mail.client
    page = manager_client.get(reverse("admin:clients_client_change", args=[client.pk]))
    body = page.content.decode()
    assert "buh@romashka.ru: 550 No such user" in body
    assert (
        f"?client__id__exact={client.pk}"
        in manager_client.get(reverse("admin:clients_client_detail_mail", args=[client.pk])).url
    )
    filtered = manager_client.get(
        reverse("admin:notifications_notification_changelist") + f"?client__id__exact={client.pk}"
    )
    assert "buh@romashka.ru" in filtered.content.decode()
    other = manager_client.get(
        reverse("admin:notifications_notification_changelist")
        + f"?client__id__exact={client.pk + 1}"
    )
    assert "buh@romashka.ru" not in other.content.decode()


def test_the_key_card_links_to_its_mail(failed_mail, manager_client) -> None:
    response = manager_client.get(
        reverse("admin:keys_licensekey_detail_mail", args=[failed_mail.key_id])
    )
    assert response.url.endswith(f"?key__id__exact={failed_mail.key_id}")


@pytest.mark.parametrize("role", [SUPPORT, SALES])
def test_support_and_sales_read_the_outbox_and_resend_but_leave_templates_and_smtp(
    role, client
) -> None:
    user = StaffUserFactory(username="helper")
    user.groups.add(Group.objects.get(name=role))
    assert user.has_perm("notifications.view_notification")
    assert user.has_perm("notifications.change_notification")
    assert user.has_perm("notifications.view_mailtemplate")
    assert not user.has_perm("notifications.change_mailtemplate")
    assert not user.has_perm("notifications.change_mailsettings")


def test_a_read_only_user_cannot_change_a_template(client, read_only_user) -> None:
    client.force_login(read_only_user)
    row = template()
    client.post(change_url(row), {"subject": "x", "html": "<div>x</div>", "enabled": "on"})
    row.refresh_from_db()
    assert row.subject != "x"


def test_a_template_reaching_past_plain_values_cannot_be_saved(manager_client) -> None:
    row = template()
    response = manager_client.post(
        change_url(row),
        {"subject": "x", "html": "<div>{{ company.__class__.__mro__ }}</div>", "enabled": "on"},
    )
    assert response.status_code == 200
    assert "строка 1" in response.content.decode()
    row.refresh_from_db()
    assert "__class__" not in row.html


def test_the_outbox_filtered_by_a_malformed_client_id_is_not_an_error(manager_client) -> None:
    response = manager_client.get(
        reverse("admin:notifications_notification_changelist") + "?client__id__exact=abc",
        follow=True,
    )
    assert response.status_code == 200
    assert "?e=1" in response.redirect_chain[-1][0]


def test_a_mail_opens_with_its_html_in_a_sandboxed_frame(failed_mail, manager_client) -> None:
    page = manager_client.get(
        reverse("admin:notifications_notification_change", args=[failed_mail.pk])
    ).content.decode()
    assert "<iframe sandbox" in page
    assert "Купон DEMOUPD-1 активирован" in page
    assert "550 No such user" in page


def test_a_read_only_user_sees_the_outbox_but_cannot_send_again(
    failed_mail, client, read_only_user
) -> None:
    client.force_login(read_only_user)
    listing = client.get(reverse("admin:notifications_notification_changelist"))
    assert "buh@romashka.ru" in listing.content.decode()
    response = client.post(
        reverse("admin:notifications_notification_detail_resend", args=[failed_mail.pk])
    )
    assert response.status_code == 403
    failed_mail.refresh_from_db()
    assert failed_mail.status == MailStatus.FAILED


def test_a_template_that_fails_when_run_cannot_be_saved(manager_client) -> None:
    row = template()
    response = manager_client.post(
        change_url(row), {"subject": "ok", "html": "<div>{{ 1 / 0 }}</div>", "enabled": "on"}
    )

    assert response.status_code == 200
    assert "division by zero" in response.content.decode()
    row.refresh_from_db()
    assert row.subject != "ok"


def test_reading_the_mail_templates_does_not_allow_a_test_mail(client, read_only_user) -> None:
    client.force_login(read_only_user)
    row = template()

    answer = client.post(
        reverse("admin:notifications_mailtemplate_detail_send_test", args=[row.pk])
    )

    assert answer.status_code == 403
    assert not Notification.objects.exists()


def test_a_card_action_with_a_non_numeric_id_is_not_found(manager_client) -> None:
    answer = manager_client.get(
        reverse("admin:notifications_mailtemplate_detail_preview", args=["abc"])
    )

    assert answer.status_code == 404
