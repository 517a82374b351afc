"""The possible duplicates: an INN typed anywhere in another card is found, and every card of a
group is a link away."""

import pytest
from django.urls import reverse

from licentia.clients.selectors import possible_duplicates
from tests.factories import make_client

pytestmark = pytest.mark.django_db


def test_an_inn_typed_into_another_card_makes_a_group() -> None:
    owner = make_client(company="ООО «Ромашка»", crm_id1="7707083893")
    by_crm_id2 = make_client(company="Ромашка (старая карточка)", crm_id2="7707083893")
    by_comment = make_client(company="Цветы", comment="ИНН 7707083893, звонить после обеда")
    make_client(company="Одиночка", crm_id1="7736207543")

    groups = [group for group in possible_duplicates() if group.kind == "inn_elsewhere"]

    assert [(group.value, [client.pk for client in group.clients]) for group in groups] == [
        ("7707083893", [owner.pk, by_crm_id2.pk, by_comment.pk])
    ]
    assert groups[0].reason == "ИНН (CRM ID1) указан в карточке другого клиента"


def test_the_same_inn_in_two_crm_id1_is_not_told_twice() -> None:
    make_client(company="Первая", crm_id1="7707083893")
    make_client(company="Вторая", crm_id1="7707083893")

    kinds = [group.kind for group in possible_duplicates()]

    assert kinds == ["crm_id1"]


def test_each_possible_duplicate_links_to_its_card(manager_client) -> None:
    first = make_client(company="Дубль", email="same@example.com", phone="+7 912 759-10-59")
    second = make_client(company="Другой", email="same@example.com")

    page = manager_client.get(reverse("admin:clients_client_duplicates")).content.decode()

    for client in (first, second):
        card = reverse("admin:clients_client_change", args=[client.pk])
        assert f'data-testid="duplicate-card" href="{card}">{client.company}</a>' in page
    assert '<span class="lc-nowrap">+7 912 759-10-59</span>' in page
