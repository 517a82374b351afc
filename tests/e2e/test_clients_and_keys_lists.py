"""The clients and keys lists as a license manager works with them, at the two common laptop
sizes: actions one click away, the merge button once two clients are ticked, numbers that never
break, no sideways scrolling, and tab titles that read as Russian (and English)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from licentia.catalog.models import LicenseType
from licentia.clients.models import Client
from licentia.core.audit import Actor
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client, make_product

ACTOR = Actor.system("e2e")
SIZES = [(1440, 900), (1280, 720)]


def clients_with_keys() -> list[Client]:
    products = [
        make_product(100 + n, (10 + n, LicenseType.USER, 5, False), name_ru=name)
        for n, name in enumerate(["Торговля и склад", "Зарплата и кадры", "Бухгалтерия ПРОФ"])
    ]
    clients = [
        make_client(
            company="ООО «Научно-производственное объединение Ромашка»",
            contact="Анна Сергеевна Иванова",
            email="anna.ivanova@romashka-production.example",
            phone="+7 912 759-10-59",
            crm_id1="7707083893",
            comment="Оплата по счёту, звонить после обеда, бухгалтер в отпуске до понедельника",
        ),
        make_client(company="ООО «Ромашка»", phone="8 (495) 123-45-67", crm_id2="7707083893"),
        make_client(company="ИП Лютиков", phone="+7 921 000-00-00"),
    ]
    now = timezone.now()
    for client in clients:
        for _ in range(2):
            key = license_key_generate(client=client, actor=ACTOR)
            for product in products:
                key_line_add(key=key, product=product, actor=ACTOR, expires_at=now + timedelta(400))
            key_line_add(
                key=key,
                product=products[0],
                actor=ACTOR,
                is_trial=True,
                starts_at=now - timedelta(days=60),
                expires_at=now - timedelta(days=46),
            )
    return clients


def assert_on_one_line(page: Page, selector: str) -> None:
    heights = page.locator(selector).evaluate_all(
        "cells => cells.map(cell => cell.getBoundingClientRect().height)"
    )
    assert heights, selector
    assert max(heights) < 30, f"{selector} wraps: {heights}"


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_clients_list_shows_actions_merges_and_keeps_numbers_whole(
    page: Page, full_access_user, width, height
) -> None:
    clients = clients_with_keys()
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, full_access_user.username)

    page.goto("/clients/client/")
    assert page.title().startswith("Клиенты |")
    first_row = page.locator("#result_list tbody tr").first
    for name in ("Лицензионные ключи", "Сессии", "Удалить"):
        expect(first_row.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator("#result_list").get_by_text("more_horiz")).to_have_count(0)
    assert_on_one_line(page, "#result_list .lc-key")
    assert_on_one_line(page, "#result_list .field-phone_display .lc-nowrap")
    key_cell = page.locator("#result_list .lc-key").first
    font = key_cell.evaluate("cell => getComputedStyle(cell).fontFamily")
    assert "mono" in font.lower()

    merge = page.get_by_role("button", name="Объединить")
    page.locator(f"input[name=_selected_action][value='{clients[0].pk}']").check()
    expect(merge).to_be_hidden()
    page.locator(f"input[name=_selected_action][value='{clients[1].pk}']").check()
    expect(merge).to_be_visible()
    merge.click()

    expect(page.locator("#header-inner")).to_contain_text("Объединение дублей")
    assert page.title().startswith("Объединение дублей |")
    page.screenshot(path=f"test-results/clients-merge-{width}.png")


def test_the_possible_duplicates_link_to_each_card(page: Page, full_access_user) -> None:
    clients = clients_with_keys()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, full_access_user.username)

    page.goto("/clients/client/duplicates/")
    group = page.get_by_test_id("duplicate-group").filter(
        has_text="ИНН (CRM ID1) указан в карточке другого клиента"
    )
    expect(group).to_be_visible()
    group.get_by_role("link", name="ООО «Ромашка»", exact=True).click()

    expect(page).to_have_url(re.compile(f"/clients/client/{clients[1].pk}/change/"))
    assert page.title().startswith("ООО «Ромашка» (Клиент) |")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_keys_list_does_not_scroll_sideways(
    page: Page, full_access_user, width, height
) -> None:
    clients_with_keys()
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, full_access_user.username)

    page.goto("/keys/licensekey/")
    expect(page.get_by_test_id("result-count")).to_have_text("6 ключей")
    expect(page.locator(".lc-subline").first).to_contain_text("Иван Петров")
    assert page.title().startswith("Лицензионные ключи |")
    page.screenshot(path=f"test-results/keys-list-{width}.png", full_page=True)
    widths = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const boxes = [];
            for (let box = table.parentElement; box; box = box.parentElement) {
                // Only a box that scrolls sideways matters, not overflow laid over.
                if (['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
                    boxes.push(box.scrollWidth - box.clientWidth);
                }
            }
            return {
                page: document.scrollingElement.scrollWidth,
                window: window.innerWidth,
                table: table.getBoundingClientRect().right,
                overflow: Math.max(...boxes),
            };
        }"""
    )
    assert widths["page"] <= widths["window"], widths
    assert widths["table"] <= widths["window"], widths
    assert widths["overflow"] <= 0, widths
    assert_on_one_line(page, "#result_list .lc-key")
    assert_on_one_line(page, "#result_list .lc-chip")


def test_the_lists_read_in_english_too(page: Page, full_access_user) -> None:
    full_access_user.language = "en"
    full_access_user.save()
    clients = clients_with_keys()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, full_access_user.username)

    page.goto("/clients/client/")
    assert page.title().startswith("Clients |")
    first_row = page.locator("#result_list tbody tr").first
    expect(first_row.get_by_role("link", name="License keys")).to_be_visible()
    page.locator(f"input[name=_selected_action][value='{clients[0].pk}']").check()
    page.locator(f"input[name=_selected_action][value='{clients[2].pk}']").check()
    expect(page.get_by_role("button", name="Merge")).to_be_visible()

    page.goto("/clients/client/add/")
    assert page.title().startswith("Client (new) |")
    page.goto("/keys/licensekey/")
    assert page.title().startswith("License keys |")
    assert LicenseKey.objects.count() == 6
