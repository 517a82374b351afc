"""Guessing passwords: repeated failed sign-ins lock the user name and the address for a
while, the lock is audited, and a manager with full access lifts it in the cabinet."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from licentia.core.models import AuditEvent
from tests.factories import TEST_PASSWORD, StaffUserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Слишком много неудачных попыток входа"


def sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.9"):
    return client.post(
        "/login/?next=/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, settings) -> None:
    StaffUserFactory(username="buh")
    for _ in range(4):
        assert sign_in(client, "buh", "wrong").status_code == 200  # the form again
    assert sign_in(client, "buh", "wrong").status_code == 429

    answer = sign_in(client, "buh", TEST_PASSWORD)

    assert answer.status_code == 429
    assert LOCKED in answer.content.decode()
    assert not signed_in(client)
    event = AuditEvent.objects.get(action="login.locked_out")
    assert event.after == {"username": "buh", "ip": "203.0.113.9"}
    assert event.object_repr == "buh"


def test_the_user_name_is_locked_from_every_address(client) -> None:
    StaffUserFactory(username="buh")
    for number in range(5):
        sign_in(client, "BUH", "wrong", ip=f"198.51.100.{number}")

    assert sign_in(client, "buh", TEST_PASSWORD, ip="192.0.2.1").status_code == 429


def test_an_address_guessing_many_user_names_is_locked_for_all_of_them(client) -> None:
    StaffUserFactory(username="buh")
    for number in range(5):
        sign_in(client, f"user{number}", "wrong")

    assert sign_in(client, "buh", TEST_PASSWORD).status_code == 429
    assert sign_in(client, "buh", TEST_PASSWORD, ip="192.0.2.1").status_code == 302


def test_the_limit_is_a_setting_and_english_speakers_read_english(client, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    StaffUserFactory(username="buh")
    sign_in(client, "buh", "wrong")
    sign_in(client, "buh", "wrong")

    answer = client.post(
        "/login/",
        {"username": "buh", "password": TEST_PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        headers={"Accept-Language": "en"},
    )

    assert answer.status_code == 429
    assert "Too many failed sign-ins" in answer.content.decode()


def lock(client: Client) -> None:
    for _ in range(5):
        sign_in(client, "buh", "wrong")


def test_full_access_unlocks_and_the_unlock_is_audited(manager_client) -> None:
    StaffUserFactory(username="buh")
    lock(Client())
    attempt = AccessAttempt.objects.get(username="buh")

    page = manager_client.get("/axes/accessattempt/")
    answer = manager_client.post(
        "/axes/accessattempt/",
        {"action": "unlock", "_selected_action": [attempt.pk]},
        follow=True,
    )

    assert "Блокировки входа" in page.content.decode()
    assert "Вход разблокирован (1)." in answer.content.decode()
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(action="login.unlock", actor_label="manager").exists()
    fresh = Client()
    assert sign_in(fresh, "buh", TEST_PASSWORD).status_code == 302
    assert signed_in(fresh)


def test_read_only_sees_the_lockouts_but_cannot_unlock(client, read_only_user) -> None:
    StaffUserFactory(username="buh")
    lock(Client())
    client.force_login(read_only_user)
    attempt = AccessAttempt.objects.get(username="buh")

    page = client.get("/axes/accessattempt/")
    client.post("/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]})

    assert page.status_code == 200
    assert 'value="unlock"' not in page.content.decode()
    assert AccessAttempt.objects.filter(username="buh").exists()


def test_signing_in_to_one_account_does_not_reset_the_guessing_of_another(client) -> None:
    StaffUserFactory(username="admin")
    StaffUserFactory(username="viewer")
    for _ in range(4):
        sign_in(client, "admin", "wrong", ip="203.0.113.7")
    assert sign_in(client, "viewer", TEST_PASSWORD, ip="203.0.113.7").status_code == 302
    client.logout()

    assert sign_in(client, "admin", "wrong", ip="203.0.113.7").status_code == 429
