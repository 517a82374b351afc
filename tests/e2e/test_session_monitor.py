import re

import pytest
from playwright.sync_api import Page, expect

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.core.models import AuditEvent
from licentia.keys.services import key_line_add, license_key_generate
from licentia.licensing.models import Session
from licentia_client import LicentiaClient, LicentiaError
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client, make_product


def test_the_monitor_shows_a_seat_captured_by_the_client_and_reset_frees_it(
    page: Page, live_server, full_access_user
) -> None:
    product = make_product(1, (20, LicenseType.HOST, 1, False))
    key = license_key_generate(client=make_client(company="ООО Ромашка"), actor=Actor.system())
    key_line_add(key=key, product=product, actor=Actor.system())
    app = LicentiaClient(live_server.url)
    app.capture_once(key.number, 20, user="Иванов", host="srv-1", app_version="3.1")

    sign_in(page, full_access_user.username)
    page.goto(f"/keys/licensekey/{key.pk}/change/")
    page.get_by_role("link", name="Сессии").first.click()

    expect(page.get_by_test_id("monitor-scope")).to_have_text(
        f"Сессии ключа {key.number} (ООО Ромашка)"
    )
    expect(page.locator("input[name=key]")).to_have_value(key.number)
    expect(page.get_by_test_id("reset-filters")).to_have_text("Сбросить отборы")
    group = page.get_by_test_id("session-group")
    expect(group.get_by_role("heading")).to_contain_text("Сессии с лицензированием на хост")
    expect(group.get_by_test_id("session-unit")).to_have_text("Иванов@srv-1")
    expect(group).to_contain_text("ООО Ромашка")
    with pytest.raises(LicentiaError) as second_host:
        app.capture_once(key.number, 20, host="srv-2")
    assert second_host.value.code == 2008

    group.get_by_test_id("session-details-button").click()
    details = page.get_by_test_id("session-details")
    expect(details).to_be_visible()
    expect(details).to_contain_text("3.1")
    assert details.bounding_box()["width"] > 300  # type: ignore[index]
    page.keyboard.press("Escape")

    group.get_by_role("button", name="Сбросить").click()
    expect(page.get_by_text(re.compile(r"Место .*srv-1 по фиче Фича 20 \(20\)"))).to_be_visible()
    page.get_by_role("button", name="Сбросить").click()

    expect(page.get_by_test_id("no-sessions")).to_be_visible()
    assert Session.objects.get().end_reason == "reset_vendor"
    assert AuditEvent.objects.filter(action="session.reset", actor_user=full_access_user).exists()
    assert app.capture_once(key.number, 20, host="srv-2")["type"] == "HOST"
