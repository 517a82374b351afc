"""The client cabinet in a real browser, in Russian and in English: sign in through the link
the test SMTP server received, see the chart and the summary, free a bound HOST seat and take
it from another host with licentia_client, activate a coupon."""

import re
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.coupons.models import Activation, CouponKind, Door
from licentia.coupons.services import Row, coupon_batch_generate
from licentia.keys.services import key_line_add, license_key_generate
from licentia.notifications.delivery import outbox_send_due
from licentia.notifications.services import mail_settings_update
from licentia_client import LicentiaClient, LicentiaError
from tests.factories import make_client, make_product
from tests.notifications.conftest import MailServer, _free_port

WORDS = {
    "ru": {
        "send": "Прислать ссылку для входа",
        "sent": "Проверьте почту",
        "open": "Открыть кабинет",
        "summary": "Сводка по лицензиям",
        "monitor": "Монитор сессий",
        "unbind": "Отвязать",
        "freed": "Место свободно.",
        "coupon_tab": "Активировать купон",
        "activate": "Активировать",
        "activated": "активирован на ключе",
        "keys": "Лицензионные ключи",
        "subject": "Вход в личный кабинет",
    },
    "en": {
        "send": "Send the sign-in link",
        "sent": "Check your mail",
        "open": "Open the cabinet",
        "summary": "License summary",
        "monitor": "Session monitor",
        "unbind": "Unbind",
        "freed": "The seat is free.",
        "coupon_tab": "Activate a coupon",
        "activate": "Activate",
        "activated": "is activated on key",
        "keys": "License keys",
        "subject": "Sign in to the client cabinet",
    },
}


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """The test SMTP server of the mail tests, on loopback."""
    server = MailServer(host="127.0.0.1", port=_free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()


def _mailed_link(server: MailServer, address: str, subject: str) -> str:
    deadline = time.monotonic() + 20
    while not (found := [m for m in server.to(address) if subject in str(m["Subject"])]):
        outbox_send_due()
        if time.monotonic() > deadline:
            raise AssertionError("no sign-in mail arrived")
        time.sleep(0.2)
    [message] = found
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"https?://\S+/my/link/[\w-]+/", body.get_content())
    assert link, body.get_content()
    return link.group(0)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_client_signs_in_by_mail_frees_a_host_and_activates_a_coupon(
    page: Page, live_server, mail_server: MailServer, settings, language: str
) -> None:
    settings.BASE_URL = live_server.url
    words = WORDS[language]
    actor = Actor.system("e2e")
    mail_settings_update(actor=actor, host=mail_server.host, port=mail_server.port, security="none")
    product = make_product(1, (10, LicenseType.USER, 2, False), (20, LicenseType.HOST, 1, False))
    client = make_client(company="ООО Ромашка", email="it@romashka.example", language=language)
    key = license_key_generate(client=client, actor=actor)
    key_line_add(key=key, product=product, actor=actor)
    extra = make_product(2, (30, LicenseType.USER, 3, False), name_en="Reports")
    code = (
        coupon_batch_generate(kind=CouponKind.NEW_PRODUCT, rows=[Row(product=extra)], actor=actor)
        .coupons.get()
        .code
    )
    app = LicentiaClient(live_server.url)
    app.capture_once(key.number, 10, user="Смирнова", host="buh-01", app_version="3.1")
    app.capture_once(key.number, 20, host="old-server", app_version="3.1")
    with pytest.raises(LicentiaError) as taken:
        app.capture_once(key.number, 20, host="new-server")
    assert taken.value.code == 2008

    page.goto("/my/")
    if language == "en":
        page.get_by_role("button", name="EN").click()
    page.get_by_label("Лицензионный ключ" if language == "ru" else "License key").fill(key.number)
    page.get_by_label("Почта" if language == "ru" else "E-mail").fill("it@romashka.example")
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])

    link = _mailed_link(mail_server, "it@romashka.example", words["subject"])
    page.goto(link)
    page.get_by_role("button", name=words["open"]).click()

    expect(page).to_have_url(re.compile(r"/my/stats/$"))
    expect(page.locator("#captures-chart")).to_have_attribute("data-drawn", "1")
    expect(page.locator("#refusals-chart")).to_have_attribute("data-drawn", "1")

    page.get_by_role("link", name=words["summary"]).click()
    host_row = page.locator("#summary tbody tr", has_text="HOST")
    expect(host_row.locator("td.num")).to_have_text(["1", "1", "0"])
    host_row.get_by_role("link", name="1").click()

    expect(page.get_by_role("link", name=words["monitor"])).to_have_attribute(
        "aria-current", "page"
    )
    seat = page.locator("#monitor tbody tr", has_text="old-server")
    expect(page.locator("#monitor tbody tr")).to_have_count(1)
    seat.get_by_role("button", name=words["unbind"]).click()
    expect(page.get_by_role("status")).to_have_text(words["freed"])
    expect(page.locator("#monitor tbody tr", has_text="old-server")).to_have_count(0)
    assert app.capture_once(key.number, 20, host="new-server")["type"] == "HOST"

    page.get_by_role("link", name=words["coupon_tab"]).click()
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name=words["activate"], exact=True).click()
    expect(page.locator("#coupon-activated")).to_contain_text(words["activated"])
    assert Activation.objects.get().door == Door.CLIENT_CABINET
    page.get_by_role("link", name=words["keys"]).first.click()
    expect(page.locator("main")).to_contain_text("3 USER")


def test_a_manager_opens_the_client_cabinet_from_the_card_read_only(
    page: Page, full_access_user
) -> None:
    from tests.e2e.test_cabinet_shell import sign_in

    actor = Actor.system("e2e")
    product = make_product(1, (20, LicenseType.HOST, 1, False))
    client = make_client(company="ООО Ромашка", email="it@romashka.example")
    key = license_key_generate(client=client, actor=actor)
    key_line_add(key=key, product=product, actor=actor)
    from licentia.licensing.services.sessions import session_capture
    from licentia.licensing.units import Unit

    session_capture(key_number=key.number, feature_id=20, unit=Unit(host="old-server"))

    sign_in(page, full_access_user.username)
    page.goto(f"/clients/client/{client.pk}/change/")
    page.get_by_role("link", name="Открыть кабинет клиента").click()

    expect(page).to_have_url(re.compile(r"/my/stats/$"))
    expect(page.locator(".banner")).to_contain_text("только просмотр")
    expect(page.locator("#captures-chart")).to_have_attribute("data-drawn", "1")
    page.get_by_role("link", name="Монитор сессий").click()
    expect(page.locator("#monitor tbody tr", has_text="old-server")).to_have_count(1)
    expect(page.get_by_role("button", name="Отвязать")).to_have_count(0)
    page.get_by_role("button", name="Вернуться в кабинет вендора").click()
    expect(page).to_have_url(re.compile(rf"/clients/client/{client.pk}/change/$"))
