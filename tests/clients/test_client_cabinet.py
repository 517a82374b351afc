import pytest
from django.urls import reverse

from licentia.clients.models import Client, ClientFieldDefinition, Distributor, ExtraFieldKind
from licentia.core.audit import Actor
from licentia.keys.models import LicenseKey
from licentia.keys.services import license_key_generate
from tests.factories import DistributorFactory, make_client

pytestmark = pytest.mark.django_db

CARD = {
    "company": "ООО Вектор",
    "contact": "Пётр Иванов",
    "phone": "+7 (912) 759-10-59",
    "email": "Petr@Vector.ru",
    "alert_email": "",
    "crm_id1": "",
    "crm_id2": "",
    "manager": "",
    "distributor": "",
    "comment": "",
    "language": "ru",
}


def test_a_manager_creates_a_client_from_the_card(manager_client, full_access_user) -> None:
    response = manager_client.post(reverse("admin:clients_client_add"), CARD)

    assert response.status_code == 302
    client = Client.objects.get()
    assert client.email == "petr@vector.ru"
    assert client.phone_e164 == "+79127591059"
    assert client.source == "manual"


def test_a_wrong_inn_is_shown_and_kept_only_when_confirmed(manager_client) -> None:
    url = reverse("admin:clients_client_add")

    refused = manager_client.post(url, {**CARD, "crm_id1": "7707083890"})
    form = refused.context["adminform"].form
    assert "контрольная цифра неверна" in " ".join(form.errors["crm_id1"])
    assert not Client.objects.exists()

    accepted = manager_client.post(
        url, {**CARD, "crm_id1": "7707083890", "accept_invalid_inn": "on"}
    )
    assert accepted.status_code == 302
    assert Client.objects.get().crm_id1 == "7707083890"


def test_every_mistake_of_a_new_client_is_shown_at_once(manager_client) -> None:
    url = reverse("admin:clients_client_add")

    refused = manager_client.post(
        url, {**CARD, "company": "", "email": "petr@", "phone": "12", "crm_id1": "7707083890"}
    )

    errors = refused.context["adminform"].form.errors
    assert set(errors) >= {"company", "email", "phone", "crm_id1", "accept_invalid_inn"}
    assert "контрольная цифра неверна" in " ".join(errors["crm_id1"])
    assert not Client.objects.exists()


def test_extra_fields_appear_on_the_card_and_in_the_list(manager_client) -> None:
    ClientFieldDefinition.objects.create(
        code="city", label_ru="Город", kind=ExtraFieldKind.TEXT, show_in_list=True
    )
    ClientFieldDefinition.objects.create(
        code="seats", label_ru="Рабочих мест", kind=ExtraFieldKind.NUMBER, required=True
    )
    url = reverse("admin:clients_client_add")

    card = manager_client.get(url).content.decode()
    assert 'name="extra__city"' in card
    assert "Рабочих мест" in card

    refused = manager_client.post(url, {**CARD, "extra__city": "Тверь", "extra__seats": ""})
    assert "extra__seats" in refused.context["adminform"].form.errors

    manager_client.post(url, {**CARD, "extra__city": "Тверь", "extra__seats": "25"})
    assert Client.objects.get().extra == {"city": "Тверь", "seats": 25}
    listing = manager_client.get(reverse("admin:clients_client_changelist")).content.decode()
    assert "Город" in listing
    assert "Тверь" in listing


def test_an_archived_field_keeps_its_value_through_an_edit(manager_client) -> None:
    old = ClientFieldDefinition.objects.create(
        code="old", label_ru="Старое", kind=ExtraFieldKind.TEXT
    )
    client = make_client(extra={"old": "сохранить"})
    old.archived = True
    old.save()

    manager_client.post(
        reverse("admin:clients_client_change", args=[client.pk]),
        {**CARD, "company": "Переименован"},
    )

    client.refresh_from_db()
    assert client.company == "Переименован"
    assert client.extra == {"old": "сохранить"}


def test_the_list_search_ranks_and_folds_case(manager_client) -> None:
    make_client(company="ООО Ёж", comment="см. также ivan@ezh.ru")
    make_client(company="ЯОО Ёж главный", email="ivan@ezh.ru")
    url = reverse("admin:clients_client_changelist")

    by_email = manager_client.get(url, {"q": "ivan@ezh.ru"}).context["cl"].result_list
    assert [client.company for client in by_email] == ["ЯОО Ёж главный", "ООО Ёж"]
    by_word = manager_client.get(url, {"q": "ЁЖ"}).context["cl"].result_list
    assert len(by_word) == 2


def test_generating_a_key_asks_first_then_makes_an_empty_key(manager_client) -> None:
    client = make_client()
    url = reverse("admin:clients_client_detail_generate_key", args=[client.pk])

    confirmation = manager_client.get(url)
    assert confirmation.status_code == 200
    assert "DEMO" in confirmation.content.decode()
    assert not LicenseKey.objects.exists()

    response = manager_client.post(url)
    assert response.status_code == 302
    key = LicenseKey.objects.get()
    assert key.client == client
    assert key.number.startswith("DEMO-")


def test_a_read_only_user_cannot_generate_a_key(client, read_only_user) -> None:
    target = make_client()
    client.force_login(read_only_user)

    response = client.post(reverse("admin:clients_client_detail_generate_key", args=[target.pk]))

    assert response.status_code == 403
    assert not LicenseKey.objects.exists()


def test_deleting_a_client_shows_its_keys_and_removes_them(manager_client) -> None:
    client = make_client()
    key = license_key_generate(client=client, actor=Actor.system("tests"))
    url = reverse("admin:clients_client_delete", args=[client.pk])

    assert key.number in manager_client.get(url).content.decode()
    manager_client.post(url, {"post": "yes"})

    assert not Client.objects.exists()
    assert not LicenseKey.objects.exists()


def test_a_distributor_with_clients_cannot_be_deleted(manager_client) -> None:
    distributor = DistributorFactory(name="Софтпром")
    make_client(distributor=distributor)
    make_client(distributor=distributor)
    url = reverse("admin:clients_distributor_delete", args=[distributor.pk])

    page = manager_client.get(url).content.decode()
    assert "Софтпром" in page
    assert "клиентов: 2" in page
    manager_client.post(url, {"post": "yes"})

    assert Distributor.objects.filter(pk=distributor.pk).exists()


def test_an_extra_field_with_values_cannot_be_deleted(manager_client) -> None:
    field = ClientFieldDefinition.objects.create(
        code="city", label_ru="Город", kind=ExtraFieldKind.TEXT
    )
    make_client(extra={"city": "Тверь"})

    manager_client.post(
        reverse("admin:clients_clientfielddefinition_delete", args=[field.pk]), {"post": "yes"}
    )

    assert ClientFieldDefinition.objects.filter(pk=field.pk).exists()


def test_the_client_keys_open_filtered_from_the_card(manager_client) -> None:
    mine = make_client(company="Мой")
    other = make_client(company="Чужой")
    my_key = license_key_generate(client=mine, actor=Actor.system("tests"))
    license_key_generate(client=other, actor=Actor.system("tests"))

    response = manager_client.get(
        reverse("admin:clients_client_detail_keys", args=[mine.pk]), follow=True
    )

    assert [key.number for key in response.context["cl"].result_list] == [my_key.number]


def _clients(count: int, first: int, manager) -> None:
    distributor = DistributorFactory()
    for index in range(first, first + count):
        make_client(
            company=f"ООО Клиент {index:02d}",
            distributor=distributor,
            manager=manager,
            extra={"city": f"Город {index:02d}"},
        )


def test_the_client_list_takes_as_many_queries_for_thirty_clients_as_for_three(
    manager_client, full_access_user, page_and_queries, django_assert_max_num_queries
) -> None:
    ClientFieldDefinition.objects.create(
        code="city", label_ru="Город", kind=ExtraFieldKind.TEXT, show_in_list=True
    )
    url = reverse("admin:clients_client_changelist")
    _clients(3, 0, full_access_user)
    page_and_queries(url)  # the session and the process caches are read once
    _list_of_three, bound = page_and_queries(url)

    _clients(27, 3, full_access_user)
    with django_assert_max_num_queries(bound):
        page = manager_client.get(url).content.decode()

    assert all(f"ООО Клиент {index:02d}" in page for index in range(30))
    assert all(f"Город {index:02d}" in page for index in range(30))


def test_the_client_card_takes_as_many_queries_for_thirty_keys_as_for_three(
    manager_client, page_and_queries, django_assert_max_num_queries
) -> None:
    client = make_client()
    url = reverse("admin:clients_client_change", args=[client.pk])
    for _index in range(3):
        license_key_generate(client=client, actor=Actor.system("tests"))
    page_and_queries(url)
    _card_of_three, bound = page_and_queries(url)

    keys = [license_key_generate(client=client, actor=Actor.system("tests")) for _ in range(27)]
    with django_assert_max_num_queries(bound):
        page = manager_client.get(url).content.decode()

    assert all(key.number in page for key in keys)
