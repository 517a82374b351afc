import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licentia.core.models import User
from licentia.core.process_cache import ProcessCache
from licentia.core.roles import FULL_ACCESS, READ_ONLY
from tests.factories import StaffUserFactory


@pytest.fixture(autouse=True)
def process_caches_cleared() -> Iterator[None]:
    """Each test starts from its own database: nothing read by an earlier test is kept."""
    ProcessCache.clear_all()
    yield
    ProcessCache.clear_all()


@pytest.fixture
def full_access_user(db: None) -> User:
    user = StaffUserFactory(username="manager")
    user.groups.add(Group.objects.get(name=FULL_ACCESS))
    return user


@pytest.fixture
def read_only_user(db: None) -> User:
    user = StaffUserFactory(username="viewer")
    user.groups.add(Group.objects.get(name=READ_ONLY))
    return user


@pytest.fixture
def manager_client(client, full_access_user: User):
    client.force_login(full_access_user)
    return client


@pytest.fixture
def page_and_queries(manager_client, settings) -> Callable[[str], tuple[str, int]]:
    """A cabinet page as the manager sees it, and how many queries it took. The process cache
    keeps its copies for the whole test: on a loaded machine they could age out between two
    pages and add the queries that read them again."""
    settings.PROCESS_CACHE_SECONDS = 3600

    def get(url: str) -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(url)
        assert response.status_code == 200
        return response.content.decode(), len(queries)

    return get


@dataclass
class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink(host="127.0.0.1", port=port)
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()
