import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse

from licentia.clients.merge import MergeRefusedError, clients_merge, clients_merge_preview
from licentia.clients.models import Client, ClientFieldDefinition, ExtraFieldKind
from licentia.clients.search import client_search
from licentia.clients.selectors import client_find_by_crm_id, possible_duplicates
from licentia.clients.services import client_update
from licentia.core.audit import Actor
from licentia.core.models import AuditEvent
from licentia.keys.models import LicenseKey
from licentia.keys.services import license_key_generate
from tests.factories import make_client

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def test_every_key_moves_to_the_main_client_and_the_others_are_removed() -> None:
    main = make_client(company="Главный")
    first = make_client(company="Дубль 1")
    second = make_client(company="Дубль 2")
    keys = [license_key_generate(client=client, actor=ACTOR) for client in (main, first, second)]

    merged = clients_merge(main=main, others=[first, second], actor=ACTOR)

    assert list(Client.objects.values_list("company", flat=True)) == ["Главный"]
    assert set(LicenseKey.objects.filter(client=merged).values_list("number", flat=True)) == {
        key.number for key in keys
    }
    event = AuditEvent.objects.get(action="client.merge")
    assert [card["company"] for card in event.before["removed"]] == ["Дубль 1", "Дубль 2"]
    assert set(event.after["moved"]["keys.licensekey"]) == {keys[1].number, keys[2].number}


def test_the_main_client_is_found_by_the_keys_of_the_others_afterwards() -> None:
    main = make_client(company="Главный")
    other = make_client(company="Дубль")
    key = license_key_generate(client=other, actor=ACTOR)

    clients_merge(main=main, others=[other], actor=ACTOR)

    assert [client.company for client in client_search(query=key.number)] == ["Главный"]


def test_empty_fields_are_filled_only_when_chosen() -> None:
    ClientFieldDefinition.objects.create(code="city", label_ru="Город", kind=ExtraFieldKind.TEXT)
    main = make_client(company="Главный", email="")
    other = make_client(
        company="Дубль", email="dup@example.com", phone="+79127591059", extra={"city": "Тверь"}
    )

    preview = clients_merge_preview(main=main, others=[other])
    assert {candidate.name for candidate in preview.fill_candidates} == {
        "email",
        "phone",
        "extra.city",
    }

    merged = clients_merge(main=main, others=[other], actor=ACTOR, fill=["phone", "extra.city"])

    assert merged.email == ""
    assert merged.phone_e164 == "+79127591059"
    assert merged.extra == {"city": "Тверь"}


def test_the_preview_counts_what_moves() -> None:
    main = make_client()
    other = make_client()
    license_key_generate(client=other, actor=ACTOR)
    license_key_generate(client=other, actor=ACTOR)

    preview = clients_merge_preview(main=main, others=[other])

    assert ("лицензионные ключи", 2) in [(name.lower(), count) for name, count in preview.moves]


def test_merging_a_client_with_itself_is_refused() -> None:
    client = make_client()

    with pytest.raises(MergeRefusedError) as refusal:
        clients_merge(main=client, others=[client], actor=ACTOR)

    assert refusal.value.code == "merge_self"
    assert Client.objects.filter(pk=client.pk).exists()


def test_a_client_changed_since_the_preview_is_refused_and_nothing_moves() -> None:
    main = make_client(company="Главный")
    other = make_client(company="Дубль")
    key = license_key_generate(client=other, actor=ACTOR)
    seen = {client.pk: client.updated_at for client in Client.objects.all()}

    client_update(client=other, actor=ACTOR, comment="изменено другим менеджером")

    with pytest.raises(MergeRefusedError) as refusal:
        clients_merge(main=main, others=[other], actor=ACTOR, seen_versions=seen)
    assert refusal.value.code == "merge_changed"
    key.refresh_from_db()
    assert key.client_id == other.pk
    assert Client.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_the_merge_waits_for_it_and_finds_the_client_gone() -> None:
    """The merge locks the cards: an edit that starts meanwhile waits, then finds no client,
    instead of writing to a card the merge is removing."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises every writer")
    main = make_client(company="Главный")
    other = make_client(company="Дубль")
    merge_holds_lock = threading.Event()
    release_merge = threading.Event()
    outcome: list[str] = []

    def edit() -> None:
        merge_holds_lock.wait(10)
        try:
            client_update(client=other, actor=ACTOR, comment="поздно")
            outcome.append("edited")
        except Client.DoesNotExist:
            outcome.append("gone")
        finally:
            connection.close()

    editor = threading.Thread(target=edit)
    editor.start()
    with transaction.atomic():
        list(Client.objects.select_for_update().filter(pk__in=[main.pk, other.pk]))
        merge_holds_lock.set()
        release_merge.wait(0.5)
        clients_merge(main=main, others=[other], actor=ACTOR)
    editor.join(10)

    assert outcome == ["gone"]


def test_possible_duplicates_group_by_inn_email_phone_and_name() -> None:
    a = make_client(company='ООО "Ромашка"', crm_id1="7707083893")
    b = make_client(company="Ромашка, ООО", email="r@example.com")
    c = make_client(company="ИП Иванов", email="R@example.com", phone="8 912 759 10 59")
    d = make_client(company="Иванов", crm_id1="7707083893", phone="+7 912 759-10-59")
    make_client(company="Одиночка")

    groups = {
        (group.kind, frozenset(client.pk for client in group.clients))
        for group in possible_duplicates()
    }

    assert ("crm_id1", frozenset({a.pk, d.pk})) in groups
    assert ("email", frozenset({b.pk, c.pk})) in groups
    assert ("phone_e164", frozenset({c.pk, d.pk})) in groups
    assert ("company_key", frozenset({a.pk, b.pk})) in groups
    assert ("company_key", frozenset({c.pk, d.pk})) in groups


def test_the_1c_integration_finds_a_client_by_crm_id() -> None:
    client = make_client(crm_id1="7707083893", crm_id2="c0ffee-1c")
    make_client(crm_id1="7707083893")

    assert client_find_by_crm_id(crm_id2="c0ffee-1c") == client
    assert client_find_by_crm_id(crm_id1="7707083893") is None
    assert client_find_by_crm_id(crm_id1="7707083893", crm_id2="c0ffee-1c") == client
    assert client_find_by_crm_id(crm_id2="unknown") is None


def test_the_cabinet_merges_through_the_preview(manager_client) -> None:
    main = make_client(company="Главный")
    other = make_client(company="Дубль", email="dup@example.com")
    license_key_generate(client=other, actor=ACTOR)
    url = reverse("admin:clients_client_merge")

    preview = manager_client.get(url, {"ids": f"{other.pk},{main.pk}", "main": main.pk})
    assert preview.status_code == 200
    assert preview.context["preview"].main == main
    page = preview.content.decode()
    assert "dup@example.com" in page

    response = manager_client.post(
        url,
        {
            "ids": [other.pk, main.pk],
            "main": main.pk,
            "fill": ["email"],
            f"version_{main.pk}": main.updated_at.isoformat(),
            f"version_{other.pk}": other.updated_at.isoformat(),
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:clients_client_change", args=[main.pk])
    main.refresh_from_db()
    assert main.email == "dup@example.com"
    assert main.license_keys.count() == 1
    assert not Client.objects.filter(pk=other.pk).exists()


def test_the_merge_defaults_to_the_first_ticked_client(manager_client) -> None:
    first = make_client(company="Я")
    second = make_client(company="А")

    response = manager_client.post(
        reverse("admin:clients_client_changelist"),
        {"action": "merge_selected", "_selected_action": [second.pk, first.pk]},
        follow=True,
    )

    assert response.context["preview"].main == second


def test_a_read_only_user_cannot_merge(client, read_only_user) -> None:
    first = make_client()
    second = make_client()
    client.force_login(read_only_user)

    response = client.post(
        reverse("admin:clients_client_merge"), {"ids": [first.pk, second.pk], "main": first.pk}
    )

    assert response.status_code == 403
    assert Client.objects.count() == 2


def test_possible_duplicates_open_the_merge_preview(manager_client) -> None:
    make_client(company="Дубль", email="same@example.com")
    make_client(company="Другой", email="same@example.com")

    page = manager_client.get(reverse("admin:clients_client_duplicates")).content.decode()

    assert "same@example.com" in page
    assert reverse("admin:clients_client_merge") + "?ids=" in page
