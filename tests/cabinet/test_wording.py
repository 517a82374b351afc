"""The cabinet's Russian as a license manager reads it: counters with plural forms, filters and
buttons in the right case, no English names of things, dates and booleans as in Russia."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import Feature, LicenseType
from licentia.core.audit import Actor, audit_record
from licentia.core.roles import FULL_ACCESS
from tests.cabinet.test_russian_pages import visible_text
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db


def text_of(manager_client, url: str) -> str:
    response = manager_client.get(url)
    assert response.status_code == 200
    return " ".join(visible_text(response.content.decode()).split())


def test_list_counters_agree_with_their_number(manager_client) -> None:
    make_client(company="ООО «Первый»")
    make_client(company="ООО «Второй»")
    for feature_id in range(1, 6):
        Feature.objects.create(id=feature_id, name_ru=f"Фича {feature_id}")

    assert "2 клиента" in text_of(manager_client, reverse("admin:clients_client_changelist"))
    assert "5 фич" in text_of(manager_client, reverse("admin:catalog_feature_changelist"))
    assert "1 роль" not in text_of(manager_client, reverse("admin:auth_group_changelist"))
    assert "4 роли" in text_of(manager_client, reverse("admin:auth_group_changelist"))


def test_filters_are_titled_by_their_field_and_buttons_take_the_accusative(
    manager_client,
) -> None:
    client = make_client()

    listing = text_of(manager_client, reverse("admin:clients_client_changelist"))
    card = text_of(manager_client, reverse("admin:clients_client_change", args=[client.pk]))

    assert "По источник" not in listing
    assert "Источник" in listing
    assert "Удалить клиента" in card
    assert "Удалить клиент " not in card


def test_the_dashboard_is_titled_in_russian(manager_client) -> None:
    page = text_of(manager_client, "/")

    assert "Главная" in page
    assert "Администрирование сайта" not in page


def test_the_user_actions_log_names_actions_and_objects_in_russian(manager_client) -> None:
    client = make_client(company="ООО «Ромашка»")
    audit_record(actor=Actor.system("command line"), action="client.update", instance=client)

    page = text_of(manager_client, reverse("admin:core_auditevent_changelist"))

    assert "Создание клиента" in page
    assert "Изменение клиента" in page
    assert "Командная строка" in page
    assert re.search(r"Изменение клиента Клиент ООО «Ромашка»", page)
    assert "client.create" not in page
    assert "clients.client" not in page


def test_a_role_offers_the_rights_of_the_cabinet_in_russian_only(manager_client) -> None:
    role = Group.objects.get(name=FULL_ACCESS)

    page = manager_client.get(reverse("admin:auth_group_change", args=[role.pk])).content.decode()

    assert "Клиенты: просмотр" in page
    assert "Роли: изменение" in page
    assert "Can view" not in page
    assert "Task Result" not in page
    assert "deleted feature id" not in page
    assert "тип содержимого" not in page
    breadcrumbs = text_of(manager_client, reverse("admin:auth_group_changelist"))
    assert "Роли" in breadcrumbs
    assert "Группы" not in breadcrumbs


def test_saving_a_role_keeps_the_rights_the_form_does_not_offer(manager_client) -> None:
    role = Group.objects.get(name=FULL_ACCESS)
    hidden = role.permissions.get(codename="view_couponline")
    offered = role.permissions.filter(codename="view_client")

    manager_client.post(
        reverse("admin:auth_group_change", args=[role.pk]),
        {"name": role.name, "permissions": [p.pk for p in offered]},
    )

    kept = set(role.permissions.values_list("codename", flat=True))
    assert "view_client" in kept
    assert "add_client" not in kept
    assert hidden.codename in kept


def test_the_user_card_shows_a_password_link_and_explains_cabinet_access(
    manager_client, full_access_user
) -> None:
    page = text_of(manager_client, reverse("admin:core_user_change", args=[full_access_user.pk]))

    assert "pbkdf2" not in page
    assert "хэш" not in page
    assert "Задать новый пароль" in page
    assert "Вход в кабинет" in page
    assert "Статус персонала" not in page
    assert "Роли" in page


def test_dates_booleans_and_empty_choices_read_as_in_russia(manager_client) -> None:
    client = make_client()
    make_product(100, (10, LicenseType.USER, 1, False))
    created = timezone.localtime(client.created_at).strftime("%d.%m.%Y %H:%M")

    card = manager_client.get(reverse("admin:clients_client_change", args=[client.pk]))
    products = text_of(manager_client, reverse("admin:catalog_product_changelist"))
    product = text_of(manager_client, reverse("admin:catalog_product_change", args=[100]))

    assert created in text_of(
        manager_client, reverse("admin:clients_client_change", args=[client.pk])
    )
    assert "---------" not in card.content.decode()
    assert re.search(r"\b100 Продукт 100 .*Нет", products)
    assert "Добавить ещё одну строку" in product
