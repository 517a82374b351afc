import re

from playwright.sync_api import Page, expect

from licentia.core.audit import Actor
from licentia.keys.services import license_key_generate
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client


def test_a_product_is_built_added_to_a_key_with_a_multiplier_and_the_key_blocked(
    page: Page, full_access_user
) -> None:
    key = license_key_generate(
        client=make_client(company="ООО Покупатель"), actor=Actor.system("e2e")
    )
    sign_in(page, full_access_user.username)

    page.goto("/catalog/feature/add/")
    expect(page.locator("input[name=id]")).to_have_value("1")
    page.fill("input[name=id]", "54")
    page.fill("input[name=name_ru]", "Коты")
    page.locator("button[name=_save]").click()
    page.goto("/catalog/feature/add/")
    expect(page.locator("input[name=id]")).to_have_value("55")
    page.fill("input[name=name_ru]", "Собаки")
    page.locator("button[name=_save]").click()

    page.goto("/catalog/product/add/")
    page.fill("input[name=name_ru]", "Зоопарк PRO")
    page.get_by_test_id("product-tabs").get_by_text("Фичи").click()
    page.get_by_role("link", name=re.compile("Добавить ещ")).first.click()
    expect(page.locator("select[name=lines-1-feature]")).to_be_visible()
    for index, (feature, kind, count) in enumerate([("54", "USER", "1"), ("55", "HOST", "2")]):
        page.select_option(f"select[name=lines-{index}-feature]", feature)
        page.select_option(f"select[name=lines-{index}-license_type]", kind)
        page.fill(f"input[name=lines-{index}-count]", count)
    page.check("input[name=lines-0-multiplier_allowed]")
    page.locator("button[name=_save]").click()
    expect(page.locator("#result_list")).to_contain_text("Зоопарк PRO")

    page.goto(f"/keys/licensekey/{key.pk}/change/")
    page.get_by_role("link", name=re.compile("Добавить продукт")).click()
    page.select_option("select[name=product]", label="Зоопарк PRO (1)")
    page.fill("input[name=multiplier]", "3")
    page.get_by_role("button", name="Добавить").click()

    page.get_by_text("Продукты, привязанные к ключу", exact=True).click()
    lines = page.get_by_test_id("key-lines")
    expect(lines).to_contain_text("3 USER Коты (54)")
    expect(lines).to_contain_text("2 HOST Собаки (55)")
    expect(page.get_by_test_id("line-state")).to_have_text("Бессрочная")
    summary = page.get_by_test_id("key-summary")
    expect(summary.locator("tr", has_text="Коты")).to_contain_text("3")
    expect(summary.locator("tr", has_text="Собаки")).to_contain_text("2")
    page.screenshot(path="test-results/key-card.png", full_page=True)

    page.get_by_role("link", name="Заблокировать").click()
    page.get_by_role("button", name="Заблокировать").click()
    expect(page.get_by_test_id("key-blocked-banner")).to_be_visible()
    page.goto("/keys/licensekey/")
    row = page.locator("#result_list tr", has_text=key.number)
    expect(row).to_contain_text("заблокирован")
