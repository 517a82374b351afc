"""The demo's mail: printed to the worker's log without EMAIL_URL, sent for real with it."""

import threading
import time

import pytest

from licentia.cabinet.demo import demo_seed
from licentia.notifications.delivery import outbox_send_due
from licentia.notifications.models import MailKind, MailStatus, Notification
from licentia.notifications.services import digests_write, reminders_write
from licentia.settings import email_from_env
from tests.test_cli import demo_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def demo_mail(tmp_path) -> None:
    demo_seed(data_dir=tmp_path)
    reminders_write()
    digests_write()
    outbox_send_due()


def test_without_email_url_the_demos_mail_is_printed_to_the_log(
    tmp_path, settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    for name, value in email_from_env().items():
        setattr(settings, name, value)

    demo_mail(tmp_path)

    printed = capsys.readouterr().out
    assert "X-Licentia-Mail: license_problem/" in printed
    assert "не смогло занять лицензию «Обмен с сайтом» (11)" in printed
    assert "X-Licentia-Mail: expiring/" in printed
    assert "X-Licentia-Mail: manager_digest/" in printed
    assert not Notification.objects.exclude(status=MailStatus.SENT).exists()


def test_with_email_url_the_demos_mail_reaches_the_smtp_server(
    tmp_path, settings, monkeypatch: pytest.MonkeyPatch, mail_server
) -> None:
    monkeypatch.setenv("EMAIL_URL", f"smtp://{mail_server.host}:{mail_server.port}")
    for name, value in email_from_env().items():
        setattr(settings, name, value)

    demo_mail(tmp_path)

    kinds = {message["X-Licentia-Mail"].split("/")[0] for message in mail_server.received}
    assert kinds == {
        MailKind.LICENSE_PROBLEM,
        MailKind.EXPIRING,
        MailKind.MANAGER_DIGEST,
        MailKind.COUPON_ACTIVATED,
    }
    assert "it@veter.example" in {message["To"] for message in mail_server.received}


def test_serve_demo_prints_the_demos_mail_to_its_log(demo_server) -> None:  # noqa: F811
    base_url, process, _data_dir = demo_server
    assert process.stdout is not None
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 90
    while not any("X-Licentia-Mail: license_problem/" in line for line in lines):
        assert time.monotonic() < deadline, "".join(lines)
        time.sleep(0.2)

    printed = "".join(lines)
    assert "The demo's mail is printed below, not sent: set EMAIL_URL to send it." in printed
    assert "To: it@veter.example" in printed
    # The links lead to where the demo serves.
    assert base_url in printed
    assert "127.0.0.1:8000" not in printed
