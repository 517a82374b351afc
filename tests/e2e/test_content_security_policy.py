"""The Content-Security-Policy is sent, and the pages keep to it in a real browser (the `page`
fixture fails a test on any violation, on every page it visits)."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_cabinet_shell import sign_in


def test_the_cabinet_sends_a_policy_without_inline_scripts(page: Page, full_access_user) -> None:
    answer = page.goto("/login/")

    policy = answer.headers["content-security-policy"] if answer else ""
    assert "script-src 'self' 'unsafe-eval'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    sign_in(page, full_access_user.username)
    expect(page.get_by_role("navigation").first).to_be_visible()
    for path in ("/clients/client/", "/keys/licensekey/", "/core/vendorsettings/1/change/"):
        page.goto(path)
        expect(page.locator("#main, main").first).to_be_visible()
    # The theme's own scripts run: the user menu opens.
    page.get_by_text(full_access_user.username, exact=False).first.click()
    expect(page.get_by_role("button", name=re.compile("English"))).to_be_visible()


def test_the_api_docs_page_renders_under_the_policy(page: Page) -> None:
    page.goto("/api/app/v1/docs")

    expect(page.get_by_text("Licentia application protocol").first).to_be_visible()
    expect(page.get_by_text("/api/app/v1/capture").first).to_be_visible()
