"""A real Chromium (Debian's) driven by Playwright against pytest-django's live_server."""

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is required for the browser tests: apt-get install chromium")
    # Playwright's sync API runs an event loop in the test thread, where Django's ORM refuses to
    # run unless told that it is safe, which it is: the loop is Playwright's, not ours.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Reports every Content-Security-Policy violation of every page a test visits.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
        + `at ${event.sourceFile}:${event.lineNumber} on ${document.location.pathname}`);
});
"""


@pytest.fixture
def csp_violations() -> list[str]:
    return []


@pytest.fixture
def browser_timezone() -> str | None:
    """The manager's computer's time zone; a test parametrizes it to differ from the server's."""
    return None


@pytest.fixture
def page(
    browser: Browser, live_server, csp_violations: list[str], browser_timezone: str | None
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", timezone_id=browser_timezone
    )
    context.set_default_timeout(15_000)

    def on_violation(report: str) -> None:
        csp_violations.append(report)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append(f"console: {message.text}")

    context.expose_function("cspViolation", on_violation)
    context.add_init_script(REPORT_VIOLATIONS)
    context.on("console", on_console)
    page = context.new_page()
    yield page
    context.close()
    assert csp_violations == [], "the pages broke their Content-Security-Policy"
