"""Every answer carries the Content-Security-Policy, and an https server tells browsers to
stay on https (HSTS)."""

from pathlib import Path

import pytest

from tests.core.test_settings import run_python

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/login/", "/api/app/v1/docs", "/api/app/v1/public-key", "/api/app/v1/nothing"]
)
def test_every_page_has_a_policy_that_allows_no_inline_script(client, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def hsts_seconds(tmp_path: Path, base_url: str) -> str:
    (tmp_path / "secret_key").write_text("k" * 60)
    result = run_python(
        "import licentia.settings as s; print(s.SECURE_HSTS_SECONDS)",
        {"LICENTIA_DATA_DIR": str(tmp_path), "LICENTIA_BASE_URL": base_url},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_hsts_is_on_for_an_https_base_url_only(tmp_path: Path) -> None:
    assert hsts_seconds(tmp_path, "https://licensing.vendor.ru") == "31536000"
    assert hsts_seconds(tmp_path, "http://127.0.0.1:8000") == "0"


def test_an_https_request_gets_the_hsts_header(client, settings) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000

    answer = client.get("/login/", secure=True)

    assert answer["Strict-Transport-Security"] == "max-age=31536000"
