import re

from playwright.sync_api import Page, expect

from tests.factories import TEST_PASSWORD


def sign_in(page: Page, username: str) -> None:
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")


def test_a_manager_signs_in_switches_to_english_sees_the_sidebar_and_signs_out(
    page: Page, full_access_user
) -> None:
    sign_in(page, full_access_user.username)

    sidebar = page.get_by_role("navigation").first
    expect(sidebar.get_by_role("link", name="Настройки вендора")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Журнал действий пользователей")).to_be_visible()
    page.screenshot(path="test-results/cabinet-ru.png", full_page=True)

    page.get_by_text(full_access_user.username, exact=False).first.click()
    page.get_by_role("button", name=re.compile("English")).click()

    expect(sidebar.get_by_role("link", name="Vendor settings")).to_be_visible()
    expect(sidebar.get_by_role("link", name="User actions log")).to_be_visible()
    full_access_user.refresh_from_db()
    assert full_access_user.language == "en"

    page.get_by_text(full_access_user.username, exact=False).first.click()
    page.get_by_role("button", name="Log out").or_(page.get_by_role("link", name="Log out")).click()
    expect(page.get_by_role("heading", name=re.compile("logged out"))).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.locator("input[name=username]")).to_be_visible()
