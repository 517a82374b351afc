import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from licentia.licensing.services.trials import trial_register
from licentia.licensing.units import Unit
from licentia.notifications.delivery import outbox_send_due
from licentia.notifications.models import MailTemplate
from licentia.notifications.services import mail_templates_ensure
from tests.e2e.test_cabinet_shell import sign_in
from tests.notifications.conftest import (  # noqa: F401 - fixtures
    mail_server,
    smtp,
    subject,
    trial_product,
)


def register_trial(email: str, language: str) -> None:
    trial_register(
        product_id=100,
        questionnaire={"company": f"Компания {email}", "email": email},
        unit=Unit("u", email),
        fingerprint={"machine_id": email},
        language=language,
        at=timezone.now(),
    )


def test_a_manager_edits_previews_and_test_sends_the_trial_mail_and_switches_english_off(
    page: Page,
    full_access_user,
    smtp,  # noqa: F811
    trial_product,  # noqa: F811
) -> None:
    mail_templates_ensure()
    sign_in(page, full_access_user.username)

    page.goto("/notifications/mailtemplate/?kind__exact=new_trial&language__exact=ru")
    page.locator("#result_list").get_by_role("link", name="новый триал").click()
    page.fill("input[name=subject]", "Проверка для {{ company }}")
    editor = page.locator("trix-editor")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    editor.type("Добрый день, {{ contact }}! Ваш ключ {{ key }}.")
    page.locator("button[name=_continue]").click()
    expect(page.locator("input[name=subject]")).to_have_value("Проверка для {{ company }}")

    page.get_by_role("link", name="Предпросмотр").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Проверка для ООО Ромашка")
    expect(page.get_by_test_id("preview-text")).to_contain_text(
        "Добрый день, Иван Петров! Ваш ключ DEMO-ABCDE-FGHJK-LMNPQ-RSTUV."
    )
    page.get_by_role("button", name="Отправить тестовое письмо").click()
    expect(page.get_by_text(re.compile("Тестовое письмо отправлено"))).to_be_visible()
    [test_mail] = smtp.received
    assert test_mail["To"] == full_access_user.email
    assert subject(test_mail) == "Проверка для ООО Ромашка"

    page.goto("/notifications/mailtemplate/?kind__exact=new_trial&language__exact=en")
    page.locator("#result_list").get_by_role("link", name="новый триал").click()
    page.locator("input[name=enabled]").uncheck(force=True)
    page.locator("button[name=_continue]").click()
    expect(page.locator("input[name=enabled]")).not_to_be_checked()
    assert MailTemplate.objects.get(kind="new_trial", language="en").enabled is False

    register_trial("it@daisy.example", "en")
    register_trial("buh@lyutik.example", "ru")
    outbox_send_due()
    assert [m["To"] for m in smtp.received[1:]] == ["buh@lyutik.example"]
    assert subject(smtp.received[1]) == "Проверка для Компания buh@lyutik.example"
