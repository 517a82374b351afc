"""The demo's client sign-in: `licentia serve --demo` prints a fresh link for a demo client."""

from dataclasses import dataclass

from licentia.clients.models import Client
from licentia.core.audit import Actor
from licentia.portal.services import sign_in_link_issue

DEMO_CLIENT_EMAIL = "anna@romashka.example"


@dataclass(frozen=True)
class DemoClientLink:
    company: str
    email: str
    url: str


def demo_client_link() -> DemoClientLink | None:
    """A one-time link into the cabinet of the demo's first client; None when the server
    holds no such client (not seeded as a demo)."""
    client = Client.objects.filter(email=DEMO_CLIENT_EMAIL).order_by("id").first()
    if client is None:
        return None
    url = sign_in_link_issue(client=client, email=DEMO_CLIENT_EMAIL, actor=Actor.system("demo"))
    return DemoClientLink(company=client.company, email=DEMO_CLIENT_EMAIL, url=url)
