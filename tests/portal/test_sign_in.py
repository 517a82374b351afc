import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from licentia.core.models import ActorKind, AuditEvent
from licentia.portal.models import PortalSession, SignInAddress, SignInLink
from licentia.portal.services import sign_in_link_issue
from licentia.portal.views import COOKIE_NAME
from tests.portal.conftest import ACTOR, Company, sent_link_path, sign_in_mails

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _ask(http: HttpClient, key: str, email: str) -> tuple[int, bytes, list[str]]:
    response = http.post("/my/", {"key": key, "email": email})
    return response.status_code, CSRF.sub(b"", response.content), sorted(response.cookies)


def test_sign_in_answers_the_same_for_a_wrong_key_a_wrong_email_and_a_right_pair(
    ours: Company, theirs: Company
) -> None:
    wrong_key = _ask(HttpClient(), theirs.key.number, "buh@romashka.ru")
    malformed_key = _ask(HttpClient(), "DEMO-00000", "buh@romashka.ru")
    wrong_email = _ask(HttpClient(), ours.key.number, "boss@romashka.ru")
    assert sign_in_mails() == []

    right = _ask(HttpClient(), ours.key.number, " BUH@romashka.ru ")

    assert right == wrong_key == malformed_key == wrong_email
    assert right[0] == 200
    assert "на эту почту отправлена ссылка для входа".encode() in right[1]
    path = sent_link_path("buh@romashka.ru")
    assert path.startswith("/my/link/")
    [sent] = sign_in_mails()
    assert sent.recipient == "buh@romashka.ru"
    assert sent.client == ours.client
    # Once sent, the outbox keeps no usable link.
    assert sent.status == "sent"
    assert "/my/link/…/" in sent.text
    assert path not in sent.text + sent.html


def test_the_mailed_link_signs_in_once_and_the_session_sees_the_company(
    client: HttpClient, ours: Company
) -> None:
    client.post("/my/", {"key": ours.key.number, "email": "buh@romashka.ru"})
    path = sent_link_path("buh@romashka.ru")

    confirm = client.get(path)
    assert confirm.status_code == 200
    assert PortalSession.objects.count() == 0  # a mail scanner's GET signs nobody in
    opened = client.post(path)
    assert opened.status_code == 302
    assert opened["Location"] == "/my/stats/"
    assert opened.cookies[COOKIE_NAME]["httponly"]
    page = client.get("/my/keys/")
    assert page.status_code == 200
    assert "ООО Ромашка" in page.content.decode()
    assert ours.key.number in page.content.decode()

    again = HttpClient().post(path)
    assert again.status_code == 410
    assert COOKIE_NAME not in again.cookies
    session = PortalSession.objects.get()
    assert session.email == "buh@romashka.ru"
    assert session.expires_at - session.created_at == timedelta(days=14)
    assert client.cookies[COOKIE_NAME].value not in session.token_hash
    assert len(session.token_hash) == 64
    event = AuditEvent.objects.get(action="portal.sign_in")
    assert event.actor_kind == ActorKind.CLIENT
    assert event.actor_label.startswith("buh@romashka.ru")


def test_a_link_expires_after_15_minutes(client: HttpClient, ours: Company) -> None:
    url = sign_in_link_issue(client=ours.client, email="buh@romashka.ru", actor=ACTOR)
    link = SignInLink.objects.get()
    assert link.expires_at - link.created_at <= timedelta(minutes=15)
    assert link.expires_at - link.created_at > timedelta(minutes=14)
    SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post("/" + url.split("/", 3)[3])

    assert response.status_code == 410
    assert PortalSession.objects.count() == 0


def test_a_link_is_bound_to_its_email_and_dies_when_the_address_is_removed(
    client: HttpClient, ours: Company
) -> None:
    address = SignInAddress.objects.create(client=ours.client, email="boss@romashka.ru")
    kept = sign_in_link_issue(client=ours.client, email="boss@romashka.ru", actor=ACTOR)
    dropped = sign_in_link_issue(client=ours.client, email="boss@romashka.ru", actor=ACTOR)
    assert client.post("/" + kept.split("/", 3)[3]).status_code == 302
    assert PortalSession.objects.get().email == "boss@romashka.ru"
    address.delete()

    assert HttpClient().post("/" + dropped.split("/", 3)[3]).status_code == 410
    assert PortalSession.objects.count() == 1


def test_a_link_is_never_issued_for_an_address_of_another_company(ours: Company) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        sign_in_link_issue(client=ours.client, email="it@lutik.ru", actor=ACTOR)


def test_an_unknown_link_is_refused(client: HttpClient, ours: Company) -> None:
    assert client.post("/my/link/not-a-token/").status_code == 410


def test_sign_in_is_rate_limited_per_key_and_per_address(ours: Company) -> None:
    for n in range(5):
        assert _ask(HttpClient(REMOTE_ADDR=f"192.0.2.{n}"), ours.key.number, "x@y.ru")[0] == 200
    limited = HttpClient(REMOTE_ADDR="192.0.2.99").post(
        "/my/", {"key": ours.key.number, "email": "x@y.ru"}
    )
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0

    http = HttpClient(REMOTE_ADDR="198.51.100.7")
    statuses = [
        http.post("/my/", {"key": f"DEMO-{n:05d}", "email": "x@y.ru"}).status_code
        for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]


def test_a_session_ends_after_14_days_and_on_sign_out(portal: HttpClient) -> None:
    assert portal.get("/my/summary/").status_code == 200
    PortalSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert portal.get("/my/summary/")["Location"] == "/my/"
    PortalSession.objects.update(expires_at=timezone.now() + timedelta(days=1))
    assert portal.get("/my/summary/").status_code == 200

    portal.post("/my/sign-out/")

    assert PortalSession.objects.get().ended_at is not None
    assert (
        HttpClient(HTTP_COOKIE=f"{COOKIE_NAME}={portal.cookies[COOKIE_NAME].value}").get(
            "/my/summary/"
        )["Location"]
        == "/my/"
    )


def test_sign_out_everywhere_ends_every_browser_of_the_client(
    client: HttpClient, ours: Company
) -> None:
    from tests.portal.conftest import signed_in

    first = signed_in(HttpClient(), ours.client, "buh@romashka.ru")
    second = signed_in(client, ours.client, "buh@romashka.ru")

    second.post("/my/settings/sign-out-everywhere/")

    assert first.get("/my/keys/").status_code == 302
    assert PortalSession.objects.filter(ended_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(action="portal.sign_out_everywhere").count() == 1


def test_the_sign_in_page_is_russian_first_and_english_on_request(db: None) -> None:
    from django.utils import translation

    with translation.override("ru"):
        russian = HttpClient().get("/my/").content.decode()
    assert "Вход в личный кабинет" in russian
    assert "Прислать ссылку для входа" in russian
    english = HttpClient(HTTP_COOKIE="django_language=en").get("/my/").content.decode()
    assert "Sign in to the client cabinet" in english


def test_old_links_and_sessions_are_pruned_and_live_ones_kept(ours: Company) -> None:
    from licentia.portal.services import portal_records_prune

    sign_in_link_issue(client=ours.client, email="buh@romashka.ru", actor=ACTOR)
    fresh = sign_in_link_issue(client=ours.client, email="buh@romashka.ru", actor=ACTOR)
    SignInLink.objects.exclude(pk=SignInLink.objects.order_by("-id")[0].pk).update(
        expires_at=timezone.now() - timedelta(days=2)
    )
    HttpClient().post("/" + fresh.split("/", 3)[3])
    now = timezone.now()
    PortalSession.objects.create(
        client=ours.client,
        email="buh@romashka.ru",
        token_hash="0" * 64,
        expires_at=now,
        last_seen_at=now,
        ended_at=now - timedelta(days=31),
    )

    assert portal_records_prune() == 2

    assert SignInLink.objects.count() == 1
    assert PortalSession.objects.get().ended_at is None
