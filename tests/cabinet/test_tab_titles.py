"""The browser tab names the page as a person would: «Клиенты», «Клиент (создание)», the
record and its model; never Django's «Выберите клиент для изменения»."""

import re

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import override

from licentia.core.audit import Actor
from licentia.keys.services import license_key_generate
from tests.cabinet.test_russian_pages import cabinet_urls, some_of_everything
from tests.factories import make_client

pytestmark = pytest.mark.django_db
TITLE = re.compile(r"<title>\s*(.*?)\s*</title>", re.S)
GENERIC = re.compile(r"Выберите|Добавить|Изменить|Просмотреть|Select|Add |Change |View ")


def tab_title(manager_client, url: str, language: str = "ru") -> str:
    response = manager_client.get(url, headers={"accept-language": language})
    assert response.status_code == 200, url
    match = TITLE.search(response.content.decode())
    assert match is not None, url
    return " ".join(match.group(1).split()).rsplit(" | ", 1)[0]


def test_the_clients_pages_are_titled_in_natural_russian(manager_client) -> None:
    client = make_client(company="ООО «Ромашка»")
    key = license_key_generate(client=client, actor=Actor.system("tests"))

    titles = [
        tab_title(manager_client, reverse("admin:clients_client_changelist")),
        tab_title(manager_client, reverse("admin:clients_client_add")),
        tab_title(manager_client, reverse("admin:clients_client_change", args=[client.pk])),
        tab_title(manager_client, reverse("admin:clients_client_delete", args=[client.pk])),
        tab_title(manager_client, reverse("admin:keys_licensekey_changelist")),
        tab_title(manager_client, reverse("admin:keys_licensekey_change", args=[key.pk])),
    ]

    assert titles == [
        "Клиенты",
        "Клиент (создание)",
        "ООО «Ромашка» (Клиент)",
        "ООО «Ромашка» (удаление)",
        "Лицензионные ключи",
        f"{key.number} (Лицензионный ключ)",
    ]


def test_the_clients_pages_are_titled_in_english_too(manager_client, full_access_user) -> None:
    full_access_user.language = "en"
    full_access_user.save()
    client = make_client(company="Romashka LLC")

    titles = [
        tab_title(manager_client, reverse("admin:clients_client_changelist"), "en"),
        tab_title(manager_client, reverse("admin:clients_client_add"), "en"),
        tab_title(manager_client, reverse("admin:clients_client_change", args=[client.pk]), "en"),
    ]

    assert titles == ["Clients", "Client (new)", "Romashka LLC (Client)"]


def test_no_page_of_any_model_keeps_the_generic_title(manager_client) -> None:
    some_of_everything()
    generic = {}
    for url in cabinet_urls():
        response = manager_client.get(url, follow=True, headers={"accept-language": "ru"})
        match = TITLE.search(response.content.decode())
        if response.status_code == 200 and match and GENERIC.search(match.group(1)):
            generic[url] = match.group(1).strip()
    assert generic == {}


# The session list is the session monitor, a page of its own that names itself.
OWN_PAGES = {"licensing.session"}


def test_every_list_is_titled_by_its_model_plural(manager_client) -> None:
    for model in admin.site._registry:
        meta = model._meta
        if meta.label_lower in OWN_PAGES:
            continue
        try:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        response = manager_client.get(url, headers={"accept-language": "ru"})
        if response.status_code != 200:
            continue
        with override("ru"):
            expected = str(capfirst(meta.verbose_name_plural))
        assert tab_title(manager_client, url) == expected
