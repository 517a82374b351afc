import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from licentia.catalog.models import LicenseType, Product
from licentia.core.audit import Actor
from licentia.notifications.delivery import outbox_send_due
from licentia.notifications.services import mail_settings_update
from tests.factories import make_product

ACTOR = Actor.system("tests")


@dataclass
class MailServer:
    """A real SMTP server on loopback: keeps what it accepts, answers as told."""

    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    data_reply: str = "250 OK"
    refused: dict[str, str] = field(default_factory=dict)  # address -> RCPT reply

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if not self.data_reply.startswith("250"):
            return self.data_reply
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        self.received.append(message)  # type: ignore[arg-type]
        return self.data_reply

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(host="127.0.0.1", port=_free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def smtp(mail_server: MailServer, db: None) -> MailServer:
    """The cabinet's mail settings point at the loopback server."""
    mail_settings_update(
        actor=ACTOR,
        host=mail_server.host,
        port=mail_server.port,
        security="none",
        sender="Licentia <licensing@vendor.example>",
    )
    return mail_server


def send_all() -> dict[str, int]:
    return outbox_send_due()


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


@pytest.fixture
def trial_product(db: None) -> Product:
    return make_product(
        100,
        (10, LicenseType.USER, 1, False),
        trial_days=14,
        name_en="Accounting PRO",
        activation_text_ru="Откройте Сервис → Лицензии.",
        activation_text_en="Open Service → Licenses.",
    )


def subject(message: EmailMessage) -> str:
    # A long encoded subject is folded onto its own line; the fold is not part of it.
    return str(message["Subject"]).strip()
