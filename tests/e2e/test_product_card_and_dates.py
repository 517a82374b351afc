"""The product card in tabs and the cabinet's date boxes, in a real browser at the two common
laptop sizes, and once in English."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from licentia.catalog.models import Binding, Feature, LicenseType, Product
from licentia.core.audit import Actor
from licentia.keys.models import KeyLine
from licentia.keys.services import license_key_generate
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client, make_product

SIZES = [(1440, 900), (1280, 720)]

# The text a select shows, measured in its own font, against the room the select gives it
# (its width less its padding, which holds the arrow).
SELECT_FITS = """
(select) => {
    const style = getComputedStyle(select);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft)
        - parseFloat(style.paddingRight);
    const shown = select.options[select.selectedIndex].text;
    return {text: shown, fits: context.measureText(shown).width <= room + 1};
}
"""


def catalog() -> Product:
    Feature.objects.create(id=12, name_ru="Складской учёт с партиями и сериями")
    card = make_product(
        102,
        (12, LicenseType.DATABASE, 1, True, {"binding": Binding.FLOATING}),
        name_ru="Торговля PRO",
        name_en="Trade PRO",
        trial_days=30,
    )
    make_product(90, (12, LicenseType.USER, 1, False), name_ru="Торговля: триал", trial_days=30)
    make_product(91, (12, LicenseType.USER, 1, False), name_ru="Торговля: базовая")
    return card


def assert_fits(select: Locator) -> None:
    measured = select.evaluate(SELECT_FITS)
    assert measured["fits"], f"«{measured['text']}» is cut in {select.get_attribute('name')}"


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_product_card_reads_in_tabs_with_whole_feature_lines_and_trials_only(
    page: Page, full_access_user, width, height
) -> None:
    product = catalog()
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, full_access_user.username)

    page.goto(f"/catalog/product/{product.pk}/change/")
    tabs = page.get_by_test_id("product-tabs").locator("a")
    expect(tabs).to_have_text(["Основное", "Описание RU", "Описание EN", "Фичи", "Триал"])
    expect(page.locator("input[name=name_ru]")).to_be_visible()
    expect(page.locator("select[name=lines-0-feature]")).to_be_hidden()

    tabs.get_by_text("Описание RU").click()
    expect(page.locator("textarea[name=activation_text_ru]")).to_be_visible()
    expect(page.locator("input[name=name_ru]")).to_be_hidden()

    tabs.get_by_text("Фичи").click()
    page.screenshot(path=f"test-results/product-card-features-{width}.png", full_page=True)
    for column in ("feature", "license_type", "binding"):
        select = page.locator(f"select[name=lines-0-{column}]")
        expect(select).to_be_visible()
        assert_fits(select)
    if width >= 1440:
        table = page.locator(".lc-feature-lines table")
        wrapper = page.locator(".lc-feature-lines .formset-wrapper")
        assert table.evaluate("(table) => table.scrollWidth") <= wrapper.evaluate(
            "(box) => box.clientWidth"
        ), "the feature lines scroll sideways"
    expect(page.locator("select[name=lines-0-feature]")).to_contain_text(
        "Складской учёт с партиями и сериями (12)"
    )

    tabs.get_by_text("Триал").click()
    offered = page.locator("#id_ends_trials_from option")
    expect(offered).to_have_text(["Торговля: триал (90)"])
    expect(page.get_by_text("Предлагаются только продукты с триалом.")).to_be_visible()
    page.screenshot(path=f"test-results/product-card-trial-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    offered.first.dblclick()
    page.locator("button[name=_continue]").click()
    expect(page.get_by_text(re.compile("изменен|изменён"))).to_be_visible()
    assert list(product.ends_trials.values_list("pk", flat=True)) == [90]


@pytest.mark.parametrize("browser_timezone", ["Asia/Vladivostok"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_manager_types_and_picks_dates_without_a_time_zone_note(
    page: Page, full_access_user, width, height
) -> None:
    product = catalog()
    key = license_key_generate(
        client=make_client(company="ООО «Ромашка»"), actor=Actor.system("e2e")
    )
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, full_access_user.username)

    page.goto(f"/keys/licensekey/{key.pk}/change/")
    page.get_by_role("link", name=re.compile("Добавить продукт")).click()
    page.select_option("select[name=product]", str(product.pk))
    starts = page.locator("input[name=starts_at]")
    expect(starts).to_have_value(re.compile(r"^\d\d\.\d\d\.\d{4} \d\d:\d\d$"))
    expect(starts).to_have_attribute("placeholder", "дд.мм.гггг чч:мм")
    starts.fill("15.03.2025 14:05")
    expires = page.locator("input[name=expires_at]")
    expires.fill("20.04.2030 09:30")
    # The calendar button: the picked day replaces the date and the typed time stays.
    expires.locator("xpath=..").get_by_role("button", name="Выбрать дату").click()
    picker = expires.locator("xpath=..").locator(".lc-moment-picker")
    expect(picker).to_have_value("2030-04-20")
    picker.evaluate(
        "(box) => { box.value = '2030-03-15';"
        " box.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    expect(expires).to_have_value("15.03.2030 09:30")
    expires.fill("15.03.2030")
    expect(page.get_by_text(re.compile("Примечание|времени на сервере"))).to_have_count(0)
    expect(page.locator(".timezonewarning")).to_have_count(0)
    page.get_by_role("button", name="Добавить").click()

    expect(page.get_by_text("Продукт добавлен в ключ.")).to_be_visible()
    line = KeyLine.objects.get(key=key)
    starts_local = timezone.localtime(line.starts_at)
    ends_local = timezone.localtime(line.expires_at)
    assert (starts_local.date().isoformat(), starts_local.hour, starts_local.minute) == (
        "2025-03-15",
        14,
        5,
    )
    assert (ends_local.date().isoformat(), ends_local.time().isoformat()) == (
        "2030-03-15",
        "23:59:59.999999",
    )

    page.goto("/statistics/")
    expect(page.locator(".vDateField")).to_have_count(0)
    expect(page.get_by_text(re.compile("Примечание|времени на сервере"))).to_have_count(0)


def test_the_product_card_and_date_boxes_read_in_english(page: Page, full_access_user) -> None:
    product = catalog()
    full_access_user.language = "en"
    full_access_user.save(update_fields=["language"])
    key = license_key_generate(client=make_client(company="Acme"), actor=Actor.system("e2e"))
    sign_in(page, full_access_user.username)

    page.goto(f"/catalog/product/{product.pk}/change/")
    expect(page.get_by_test_id("product-tabs").locator("a")).to_have_text(
        ["Main", "Description RU", "Description EN", "Features", "Trial"]
    )
    page.goto(f"/keys/licensekey/{key.pk}/change/")
    page.get_by_role("link", name=re.compile("Add a product")).click()
    expect(page.locator("input[name=expires_at]")).to_have_attribute(
        "placeholder", "dd.mm.yyyy hh:mm"
    )
    page.select_option("select[name=product]", str(product.pk))
    page.fill("input[name=expires_at]", "31.12.2040 a")
    page.get_by_role("button", name="Add").click()
    expect(
        page.get_by_text("Enter a date as 15.03.2025, or a date and time as 15.03.2025 14:05.")
    ).to_be_visible()
