"""Every list of the cabinet and every filter on it, given what an attacker or a clumsy hand
types: never a server error, and the page still answers."""

import pytest
from django.contrib import admin
from django.urls import reverse

from licentia.cabinet.demo import demo_seed
from licentia.clients.models import Client
from tests.factories import make_client

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "нул\x00евой",
    "2024-13-45T10:00",
    "0001-01-01",
    "9999-12-31T23:59",
    "99999999999999999999999",
    "-1",
    "²",
    "１２",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%_%",
    "\\",
    "Ω" * 3000,
    " ",
]

# The values that broke a list or a filter before: a walk of every list with all of HOSTILE
# would take half a minute.
LIST_HOSTILE = ["нул\x00евой", "2024-13-45T10:00", "0001-01-01", "99999999999999999999999", "²"]

MONITOR_PARAMETERS = ["client", "key", "feature", "type", "user", "host", "database", "since"]


def changelists(client) -> list[tuple[str, list[str]]]:
    """Each registered list's address and the query parameters its filters read."""
    found = []
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        page = client.get(url)
        if page.status_code == 403:
            continue  # no role may open it (the task queue is for superusers)
        assert page.status_code in (200, 302), url
        parameters = ["q"]
        if page.status_code == 200 and page.context and "cl" in page.context:
            for spec in page.context["cl"].filter_specs:
                parameters.extend(spec.expected_parameters())
        found.append((url, parameters))
    return found


@pytest.fixture
def demo(tmp_path) -> None:
    """Rows in every list: clients, keys in every state, sessions, problems, tokens."""
    demo_seed(data_dir=tmp_path)


def test_no_list_or_filter_of_the_cabinet_fails_on_hostile_values(manager_client, demo) -> None:
    lists = changelists(manager_client)
    assert len(lists) >= 10

    for url, parameters in lists:
        for parameter in parameters:
            for value in LIST_HOSTILE:
                answer = manager_client.get(url, {parameter: value})
                assert answer.status_code in (200, 302), (url, parameter, value)


def test_the_merge_and_duplicates_pages_take_hostile_ids(manager_client, demo) -> None:
    for name in ("admin:clients_client_merge", "admin:clients_client_duplicates"):
        for value in [*LIST_HOSTILE, "1,²,-5,abc", ",,,"]:
            answer = manager_client.get(reverse(name), {"ids": value, "q": value})
            assert answer.status_code in (200, 302), (name, value)


def test_the_monitor_shows_bad_filter_values_as_field_errors(manager_client, demo) -> None:
    monitor = reverse("admin:licensing_session_changelist")

    for tab in ("", "history"):
        for parameter in MONITOR_PARAMETERS:
            for value in HOSTILE:
                answer = manager_client.get(monitor, {"tab": tab, parameter: value})
                assert answer.status_code == 200, (tab, parameter, value)

    bad_time = manager_client.get(monitor, {"tab": "history", "since": "2024-13-45T10:00"})
    long_ago = manager_client.get(monitor, {"tab": "history", "since": "0001-01-01"})
    nul_user = manager_client.get(monitor, {"user": "Смир\x00нова"})

    assert bad_time.context["filter_errors"] == ["завершены с: Введите правильную дату и время."]
    assert long_ago.context["filter_errors"][0].startswith("завершены с: ")
    by_user = manager_client.get(monitor, {"user": "Смирнова"})

    assert nul_user.context["filter_errors"] == []
    assert nul_user.context["count"] == by_user.context["count"] > 0


def test_a_merge_posted_with_an_impossible_version_time_is_no_error(manager_client) -> None:
    first, second = make_client(company="Альфа"), make_client(company="Альфа 2")

    answer = manager_client.post(
        reverse("admin:clients_client_merge"),
        {"ids": [first.pk, second.pk], "main": first.pk, f"version_{first.pk}": "2024-02-30T00:00"},
    )

    assert answer.status_code == 302
    assert Client.objects.count() == 1
