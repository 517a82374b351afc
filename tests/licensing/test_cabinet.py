from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import LicenseType
from licentia.clients.merge import clients_merge, clients_merge_preview
from licentia.keys.services import key_line_add
from licentia.licensing.models import Problem, Session
from licentia.licensing.refusals import Refusal
from licentia.licensing.services.sessions import session_capture, session_release
from licentia.licensing.units import Unit
from tests.factories import make_client, make_product
from tests.licensing.conftest import ACTOR

pytestmark = pytest.mark.django_db


def capture(key, user, host="h", feature_id=10):
    return session_capture(key_number=key.number, feature_id=feature_id, unit=Unit(user, host))


def test_the_monitor_groups_held_seats_by_type_and_filters_them(manager_client, key) -> None:
    capture(key, "Иванов")
    capture(key, "Петров", host="buh-02")
    capture(key, "", host="srv-1", feature_id=20)
    monitor = reverse("admin:licensing_session_changelist")

    everything = manager_client.get(monitor).content.decode()
    one_host = manager_client.get(monitor, {"host": "BUH-02"}).content.decode()
    by_company = manager_client.get(monitor, {"client": "ромашк"}).content.decode()
    by_typed_key = manager_client.get(monitor, {"key": key.number.lower().replace("-", "")})
    other_company = manager_client.get(monitor, {"client": "Лютик"}).content.decode()
    by_user = manager_client.get(monitor, {"user": "иванов"}).content.decode()

    assert "Сессии с лицензированием на пользователя (2)" in everything
    assert "Сессии с лицензированием на хост (1)" in everything
    assert "Петров@buh-02" in one_host
    assert "Иванов@h" not in one_host
    assert "Иванов@h" in by_company
    assert "Иванов@h" in by_typed_key.content.decode()
    assert "Сейчас нет занятых мест." in other_company
    assert "Иванов@h" in by_user
    assert "Петров@buh-02" not in by_user


def test_the_history_tab_shows_sessions_ended_in_the_period(manager_client, key) -> None:
    granted = capture(key, "Иванов")
    session_release(session_id=granted.session.public_id)
    Session.objects.create(
        key=key,
        feature_id=10,
        license_type="USER",
        binding="floating",
        unit="old@h",
        user="old",
        host="h",
        started_at=timezone.now() - timedelta(days=3),
        last_heartbeat_at=timezone.now() - timedelta(days=3),
        lease_expires_at=timezone.now() - timedelta(days=3),
        ended_at=timezone.now() - timedelta(days=3),
        end_reason="timeout",
    )

    page = manager_client.get(
        reverse("admin:licensing_session_changelist"), {"tab": "history"}
    ).content.decode()

    assert "Иванов@h" in page
    assert "освобождена" in page
    assert "old@h" not in page


def test_a_read_only_user_sees_the_monitor_but_cannot_reset(client, read_only_user, key) -> None:
    session = capture(key, "Иванов").session
    client.force_login(read_only_user)

    page = client.get(reverse("admin:licensing_session_changelist")).content.decode()
    reset = client.post(reverse("admin:licensing_session_reset", args=[session.pk]))

    assert "Иванов@h" in page
    assert "Сбросить" not in page
    assert reset.status_code == 403
    assert Session.objects.get().ended_at is None


def test_problems_of_a_client_are_listed_from_its_card(manager_client, key) -> None:
    capture(key, "a")
    capture(key, "b")
    with pytest.raises(Refusal):
        capture(key, "c")

    page = manager_client.get(
        reverse("admin:licensing_problem_changelist"), {"key__client__id__exact": key.client_id}
    ).content.decode()

    assert "c@h" in page
    assert "Нет свободной лицензии" in page


def test_a_merge_moves_sessions_and_problems_with_the_keys_and_says_so(key) -> None:
    capture(key, "a")
    capture(key, "b")
    with pytest.raises(Refusal):
        capture(key, "c")
    main = make_client(company="Главный")

    preview = clients_merge_preview(main=main, others=[key.client])
    clients_merge(main=main, others=[key.client], actor=ACTOR)

    moves = dict(preview.moves)
    assert moves["сессии"] == 2
    assert moves["проблемы"] == 1
    assert Session.objects.filter(key__client=main).count() == 2
    assert Problem.objects.get().key.client == main


def monitor_queries(client, **query: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:licensing_session_changelist"), query)
    assert page.status_code == 200
    return len(queries)


def test_the_monitor_reads_a_fixed_number_of_queries_whatever_the_sessions(
    manager_client, key, settings
) -> None:
    # The process cache keeps its copies for the whole test, however slow the machine.
    settings.PROCESS_CACHE_SECONDS = 3600
    key_line_add(key=key, product=make_product(2, (10, LicenseType.USER, 40, False)), actor=ACTOR)
    for number in range(3):
        capture(key, f"u{number}")
    few = monitor_queries(manager_client)
    few_history = monitor_queries(manager_client, tab="history")

    Session.objects.update(ended_at=timezone.now(), end_reason="timeout")
    for number in range(3, 33):
        capture(key, f"u{number}", host=f"h{number}")
    many = Session.objects.filter(ended_at__isnull=True).count()

    assert many > 3
    assert monitor_queries(manager_client) == few
    assert monitor_queries(manager_client, tab="history") == few_history


def test_blocking_a_key_says_how_many_of_its_sessions_will_end(manager_client, key) -> None:
    capture(key, "Иванов")
    capture(key, "Петров", host="buh-02")
    block_url = reverse("admin:keys_licensekey_detail_block", args=[key.pk])

    question = manager_client.get(block_url).content.decode()
    manager_client.post(block_url)

    assert "его 2 открытые сессии завершатся сейчас" in question
    assert not Session.objects.filter(key=key, ended_at__isnull=True).exists()


def test_the_monitor_opened_from_a_key_card_names_the_key_and_its_client(
    manager_client, key
) -> None:
    capture(key, "Иванов")
    monitor = reverse("admin:licensing_session_changelist")

    page = manager_client.get(monitor, {"key": key.pk}).content.decode()
    of_client = manager_client.get(monitor, {"client": key.client_id}).content.decode()
    unfiltered = manager_client.get(monitor).content.decode()

    assert f"Сессии ключа {key.number} ({key.client.company})" in page
    assert f'name="key" value="{key.number}"' in page
    assert "Сбросить отборы" in page
    assert f"Сессии клиента {key.client.company}" in of_client
    assert f'name="client" value="{key.client.company}"' in of_client
    assert "Сбросить отборы" not in unfiltered
    assert "Монитор сессий" in unfiltered
    assert (
        "Лицензирование"
        not in unfiltered.split('data-testid="session-monitor"')[0].split("<main")[-1]
    )


def test_a_reset_asks_first_naming_the_unit_and_the_feature(manager_client, key) -> None:
    session = capture(key, "Иванов").session
    url = reverse("admin:licensing_session_reset", args=[session.pk])

    question = manager_client.get(url).content.decode()

    assert "Иванов@h" in question
    assert "Фича 10 (10)" in question
    assert Session.objects.get().ended_at is None
    manager_client.post(url)
    assert Session.objects.get().ended_at is not None


def test_problems_name_the_feature_and_the_refusal_with_its_code(manager_client, key) -> None:
    capture(key, "a")
    capture(key, "b")
    with pytest.raises(Refusal):
        capture(key, "c")

    page = manager_client.get(reverse("admin:licensing_problem_changelist")).content.decode()

    assert "Фича 10 (10)" in page
    assert "все места заняты. (2008)" in page
