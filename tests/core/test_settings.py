import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection

from licentia.settings import database_from_env, email_from_env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path: Path) -> None:
    result = run_python("import licentia.settings", {"LICENTIA_DATA_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr
    assert "licentia init" in result.stderr


def test_it_starts_with_the_generated_key_file(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("k" * 60)

    result = run_python(
        "from django.conf import settings; import licentia.settings as s; print(len(s.SECRET_KEY))",
        {"LICENTIA_DATA_DIR": str(tmp_path)},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "60"


def test_the_sqlite_default_lives_in_the_data_dir_with_immediate_transactions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)

    config = database_from_env()

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert str(config["NAME"]).endswith("licentia.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_a_postgres_url_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://lic:pw@db.internal:5433/licentia")

    config = database_from_env()

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "licentia")
    assert config["USER"] == "lic"


def test_an_unsupported_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/licentia")

    with pytest.raises(ImproperlyConfigured, match="unsupported database"):
        database_from_env()


def test_mail_goes_to_the_console_when_nothing_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.delenv("EMAIL_HOST", raising=False)

    assert email_from_env()["EMAIL_BACKEND"].endswith("console.EmailBackend")


def test_an_email_url_with_starttls_and_credentials_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://mailer%40vendor.ru:p%40ss@smtp.vendor.ru")

    config = email_from_env()

    assert config["EMAIL_HOST"] == "smtp.vendor.ru"
    assert config["EMAIL_PORT"] == 587
    assert config["EMAIL_HOST_USER"] == "mailer@vendor.ru"
    assert config["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert config["EMAIL_USE_TLS"] is True
    assert config["EMAIL_USE_SSL"] is False


def test_an_unknown_email_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_URL", "ftp://mail.example.com")

    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme"):
        email_from_env()


def test_mail_configured_by_email_url_reaches_a_real_smtp_server(
    monkeypatch: pytest.MonkeyPatch, smtp_server
) -> None:
    monkeypatch.setenv("EMAIL_URL", f"smtp://{smtp_server.host}:{smtp_server.port}")
    config = email_from_env()
    connection = get_connection(
        config["EMAIL_BACKEND"],
        host=config["EMAIL_HOST"],
        port=config["EMAIL_PORT"],
        use_tls=config["EMAIL_USE_TLS"],
    )

    EmailMessage(
        subject="Лицензия активна",
        body="Ключ DEMO-...",
        from_email="licentia@vendor.ru",
        to=["client@example.com"],
        connection=connection,
    ).send()

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["Subject"] == "Лицензия активна"
    assert received["To"] == "client@example.com"
