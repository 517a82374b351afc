import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.utils import translation

from licentia.catalog.models import LicenseType
from licentia.clients.models import Client
from licentia.core.audit import Actor
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from licentia.notifications.delivery import outbox_send_due
from licentia.notifications.models import MailKind, Notification
from licentia.portal.services import sign_in_link_issue
from licentia.portal.views import COOKIE_NAME
from tests.factories import make_client, make_product

ACTOR = Actor.system("tests")
LINK = re.compile(r"https?://[^\s\"<>]+/my/link/[^\s\"<>/]+/")


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@dataclass
class Company:
    client: Client
    key: LicenseKey


def _company(name: str, email: str, product_id: int) -> Company:
    client = make_client(company=name, email=email)
    key = license_key_generate(client=client, actor=ACTOR)
    product = make_product(
        product_id, (10, LicenseType.USER, 2, False), (20, LicenseType.HOST, 1, False)
    )
    key_line_add(key=key, product=product, actor=ACTOR)
    return Company(client=client, key=key)


@pytest.fixture
def ours(db: None) -> Company:
    return _company("ООО Ромашка", "buh@romashka.ru", 1)


@pytest.fixture
def theirs(db: None) -> Company:
    return _company("ООО Лютик", "it@lutik.ru", 2)


def signed_in(http: HttpClient, client: Client, email: str) -> HttpClient:
    """The browser signed in through a fresh link for the address."""
    url = sign_in_link_issue(client=client, email=email, actor=ACTOR)
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = http.post("/" + path)
    assert response.status_code == 302, response.content
    assert http.cookies[COOKIE_NAME].value
    return http


@pytest.fixture
def portal(client: HttpClient, ours: Company) -> HttpClient:
    """Our client's browser, signed in, the cabinet in English."""
    client.cookies["django_language"] = "en"
    return signed_in(client, ours.client, "buh@romashka.ru")


def sign_in_mails() -> list[Notification]:
    return list(Notification.objects.filter(kind=MailKind.CLIENT_SIGN_IN).order_by("id"))


def sent_link_path(address: str) -> str:
    """The path of the sign-in link in the last mail sent to the address (the outbox sent)."""
    outbox_send_due()
    [message] = [m for m in mail.outbox if address in m.to][-1:]
    found = LINK.search(str(message.body))
    assert found, message.body
    return "/" + found.group(0).split("://", 1)[1].split("/", 1)[1]
