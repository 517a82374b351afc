import json
import logging
import sys
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from licentia.core.selectors import vendor_settings_get

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database_and_migrations(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "pending_migrations": 0}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_login_but_the_cabinet_does(client) -> None:
    assert client.get("/healthz").status_code == 200
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_each_request_is_logged_once_as_structured_fields(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="licentia.request")

    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc123")

    records = [record for record in caplog.records if record.name == "licentia.request"]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)
    assert record.request_id == "abc123"
    assert record.duration_ms >= 0
    assert response["X-Request-ID"] == "abc123"


def _log_formatter() -> logging.Formatter:
    """The formatter the settings give the log handler."""
    config = dict(settings.LOGGING["formatters"]["json"])
    return import_string(config.pop("()"))(**config)


def test_the_json_formatter_writes_one_parsable_line() -> None:
    record = logging.LogRecord("licentia.request", logging.INFO, "", 0, "GET / 200", None, None)
    record.status = 200
    record.user = "менеджер"

    line = _log_formatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["status"] == 200
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "INFO",
        "licentia.request",
        "GET / 200",
    )
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    assert "менеджер" in line


def test_an_exception_is_logged_in_the_same_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord("licentia", logging.ERROR, "", 0, "failed", None, sys.exc_info())

    line = _log_formatter().format(record)

    assert "\n" not in line
    assert "ValueError: broken" in json.loads(line)["exception"]


def test_the_cabinet_opens_in_russian_by_default(manager_client) -> None:
    page = manager_client.get("/").content.decode()

    assert 'lang="ru"' in page
    assert "Настройки вендора" in page
    assert vendor_settings_get().key_prefix in page
    assert "BEGIN PUBLIC KEY" in page


def test_the_cabinet_follows_the_users_saved_language(manager_client, full_access_user) -> None:
    full_access_user.language = "en"
    full_access_user.save()

    page = manager_client.get("/").content.decode()

    assert 'lang="en"' in page
    assert "Vendor settings" in page


def test_switching_the_language_is_saved_on_the_account(manager_client, full_access_user) -> None:
    response = manager_client.post(reverse("cabinet-set-language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    full_access_user.refresh_from_db()
    assert full_access_user.language == "en"


def test_an_unknown_language_is_not_saved(manager_client, full_access_user) -> None:
    manager_client.post(reverse("cabinet-set-language"), {"language": "xx", "next": "/"})

    full_access_user.refresh_from_db()
    assert full_access_user.language == "ru"


def test_the_favicon_is_served_to_anyone(client) -> None:
    answer = client.get("/favicon.ico", follow=True)

    assert answer.status_code == 200
    assert answer.redirect_chain[0][0].endswith("cabinet/favicon.svg")
    assert b"<svg" in b"".join(answer.streaming_content)
