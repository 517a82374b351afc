"""The cabinet as a Russian license manager reads it, in a real browser at the two common
laptop sizes, and once in English."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client, make_product

ACTOR = Actor.system("tests")


def some_keys() -> tuple[str, int]:
    product = make_product(100, (10, LicenseType.USER, 5, False), name_ru="Торговля")
    first = make_client(company="ООО «Ромашка»", email="anna@romashka.example")
    make_client(company="ООО «Лютик»")
    key = license_key_generate(client=first, actor=ACTOR)
    ended = timezone.now() - timedelta(days=40)
    key_line_add(
        key=key,
        product=product,
        actor=ACTOR,
        is_trial=True,
        starts_at=ended - timedelta(days=14),
        expires_at=ended,
    )
    return key.number, key.pk


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1280, 720)])
def test_the_cabinet_reads_in_russian(page: Page, full_access_user, width, height) -> None:
    number, key_id = some_keys()
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, full_access_user.username)
    main = page.locator("#main, main").first

    expect(page.get_by_text("Главная").first).to_be_visible()
    expect(page.get_by_text("Администрирование сайта")).to_have_count(0)

    page.goto("/clients/client/")
    expect(page.get_by_test_id("result-count")).to_have_text("2 клиента")
    page.goto("/clients/client/?q=romashka.example")
    expect(main).to_contain_text("ООО «Ромашка»")
    expect(main).not_to_contain_text("ООО «Лютик»")

    page.goto("/keys/licensekey/")
    key_cell = page.locator(".lc-key", has_text=number)
    expect(key_cell).to_be_visible()
    assert key_cell.bounding_box()["height"] < 30  # type: ignore[index]  # one line
    expect(page.locator(".lc-chip")).to_contain_text(
        re.compile(r"Торговля · истёк \d\d\.\d\d\.\d{4}")
    )
    expect(page.locator(".lc-state")).to_have_text("истёк")
    expect(page.get_by_test_id("result-count")).to_have_text("1 ключ")

    page.goto(f"/keys/licensekey/{key_id}/change/")
    page.get_by_role("link", name="Заблокировать").click()
    expect(
        page.get_by_text(re.compile(f"Ключ {number} клиента ООО «Ромашка» будет заблокирован"))
    ).to_be_visible()
    page.get_by_role("button", name="Заблокировать").click()
    expect(page.get_by_test_id("key-blocked-banner")).to_be_visible()
    expect(page.get_by_role("link", name="Разблокировать")).to_be_visible()

    page.goto("/core/auditevent/")
    expect(main).to_contain_text("Блокировка ключа")
    expect(main).to_contain_text("Лицензионный ключ")
    expect(main).not_to_contain_text("license_key.block")

    page.goto("/clients/client/add/")
    page.fill("input[name=email]", "anna@")
    page.fill("input[name=phone]", "12")
    page.fill("input[name=crm_id1]", "7707083890")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    for field in ("company", "email", "phone", "crm_id1"):
        expect(page.locator(f"#id_{field}_error, .field-{field} .errorlist").first).to_be_visible()
    page.screenshot(path=f"test-results/cabinet-russian-{width}.png", full_page=True)


def test_the_cabinet_reads_in_english_when_the_manager_chose_it(
    page: Page, full_access_user
) -> None:
    some_keys()
    full_access_user.language = "en"
    full_access_user.save(update_fields=["language"])
    sign_in(page, full_access_user.username)

    page.goto("/clients/client/")
    expect(page.get_by_test_id("result-count")).to_have_text("2 clients")
    page.goto("/keys/licensekey/")
    expect(page.locator(".lc-chip")).to_contain_text("expired")
    expect(page.get_by_test_id("result-count")).to_have_text("1 key")
    page.goto("/core/auditevent/")
    expect(page.locator("#main, main").first).to_contain_text("License key created")
