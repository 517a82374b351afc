"""Every client-cabinet URL and action, given another client's object ids, answers 404."""

from uuid import UUID

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, get_resolver

from licentia.licensing.models import Session
from licentia.licensing.services.sessions import session_capture
from licentia.licensing.units import Unit
from licentia.portal.models import PortalSession, SignInAddress
from licentia.portal.services import sign_in_link_issue
from tests.portal.conftest import ACTOR, Company, signed_in

# Pages that name no object of a client: signing in and out, the language.
NO_OBJECT = {"sign_in", "link", "sign_out", "language", "sign_out_everywhere"}


def _portal_url_names() -> set[str]:
    resolver = get_resolver().url_patterns
    portal = next(p for p in resolver if getattr(p, "namespace", None) == "portal")
    return {p.name for p in portal.url_patterns if isinstance(p, URLPattern) and p.name}


@pytest.fixture
def their_objects(theirs: Company) -> dict[str, object]:
    seat = session_capture(key_number=theirs.key.number, feature_id=20, unit=Unit(host="srv-9"))
    address = SignInAddress.objects.create(client=theirs.client, email="boss@lutik.ru")
    sign_in_link_issue(client=theirs.client, email="it@lutik.ru", actor=ACTOR)
    their_session = signed_in(HttpClient(), theirs.client, "it@lutik.ru")
    assert their_session
    return {
        "key": theirs.key.pk,
        "session": seat.session.public_id,
        "address": address.pk,
        "portal_session": PortalSession.objects.get(client=theirs.client).pk,
    }


def test_every_url_and_action_with_another_clients_ids_is_404(
    portal: HttpClient, theirs: Company, their_objects: dict[str, object]
) -> None:
    key, session, address, browser = (
        their_objects["key"],
        their_objects["session"],
        their_objects["address"],
        their_objects["portal_session"],
    )
    assert isinstance(session, UUID)
    walks = {
        "stats": [("get", f"/my/stats/?key={key}"), ("get", f"/my/stats/?key={key}&days=7")],
        "keys": [],
        "summary": [],
        "problems": [("get", f"/my/problems/?key={key}")],
        "monitor": [("get", f"/my/monitor/?key={key}")],
        "reset": [
            ("get", f"/my/monitor/{session}/reset/"),
            ("post", f"/my/monitor/{session}/reset/"),
        ],
        "coupon": [("get", f"/my/coupon/?key={key}"), ("post", "/my/coupon/")],
        "distributions": [],
        "settings": [],
        "address_add": [],
        "address_remove": [
            ("get", f"/my/settings/addresses/{address}/remove/"),
            ("post", f"/my/settings/addresses/{address}/remove/"),
        ],
        "session_end": [
            ("get", f"/my/settings/sessions/{browser}/end/"),
            ("post", f"/my/settings/sessions/{browser}/end/"),
        ],
    }
    # Every page of the cabinet is walked, or named as one that takes no object.
    assert _portal_url_names() == set(walks) | NO_OBJECT

    answers = {}
    for name, calls in walks.items():
        for method, url in calls:
            data = (
                {"key": key, "code": "DEMOUPD-AAAAA-AAAAA-AAAAA-AAAAA"}
                if method == "post"
                else None
            )
            response = getattr(portal, method)(url, data) if data else getattr(portal, method)(url)
            answers[(name, method, url)] = response.status_code
    assert set(answers.values()) == {404}, answers

    # Their objects are as they were.
    assert Session.objects.get(public_id=session).ended_at is None
    assert SignInAddress.objects.filter(pk=address).exists()
    assert PortalSession.objects.get(pk=browser).ended_at is None


def test_pages_without_ids_show_only_the_signed_in_clients_objects(
    portal: HttpClient, ours: Company, theirs: Company, their_objects: dict[str, object]
) -> None:
    session_capture(key_number=ours.key.number, feature_id=20, unit=Unit(host="buh-01"))
    pages = {
        url: portal.get(url).content.decode()
        for url in (
            "/my/stats/",
            "/my/keys/",
            "/my/summary/",
            "/my/problems/",
            "/my/monitor/",
            "/my/coupon/",
            "/my/distributions/",
            "/my/settings/",
        )
    }
    for url, page in pages.items():
        assert theirs.key.number not in page, url
        assert "Лютик" not in page, url
        assert "boss@lutik.ru" not in page, url
    assert ours.key.number in pages["/my/keys/"]
    assert "buh-01" in pages["/my/monitor/"]
    assert "srv-9" not in pages["/my/monitor/"]


def test_a_visitor_without_a_session_is_sent_to_sign_in(db: None) -> None:
    http = HttpClient()
    for url in ("/my/stats/", "/my/keys/", "/my/monitor/", "/my/settings/", "/my/coupon/"):
        assert http.get(url)["Location"] == "/my/", url
