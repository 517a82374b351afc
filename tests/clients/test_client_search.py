import pytest
from django.db import connection
from django.urls import reverse

from licentia.clients.models import ClientFieldDefinition, ExtraFieldKind
from licentia.clients.search import _newest_with_common_words, client_search
from licentia.clients.services import client_delete, client_update
from licentia.core.audit import Actor
from licentia.keys.services import license_key_generate
from tests.factories import make_client

pytestmark = pytest.mark.django_db


def found(query: str) -> list[str]:
    return [client.company for client in client_search(query=query)]


def test_cyrillic_is_found_in_any_case() -> None:
    make_client(company="ООО «Ёлочка»", contact="Анна Сергеевна")
    make_client(company="ООО Берёза")

    assert found("ёлочка") == ["ООО «Ёлочка»"]
    assert found("ЁЛОЧКА") == ["ООО «Ёлочка»"]
    assert found("елочка") == ["ООО «Ёлочка»"]
    assert found("анна СЕРГ") == ["ООО «Ёлочка»"]


@pytest.mark.parametrize(
    "typed", ["+7 (912) 759-10-59", "89127591059", "759-10-59", "+79127591059", "9127591059"]
)
def test_a_phone_is_found_however_it_is_typed(typed: str) -> None:
    make_client(company="Телефонный", phone="8 912 759 10 59")
    make_client(company="Другой", phone="+7 495 123-45-67")

    assert found(typed) == ["Телефонный"]


def test_every_word_must_match() -> None:
    make_client(company="ООО Ромашка", comment="Москва")
    make_client(company="ООО Ромашка", comment="Казань")

    assert len(found("ромашка")) == 2
    assert len(found("ромашка казань")) == 1


def test_email_crm_ids_comment_and_extra_text_are_searched() -> None:
    ClientFieldDefinition.objects.create(code="city", label_ru="Город", kind=ExtraFieldKind.TEXT)
    make_client(
        company="Искомый",
        email="buh@iskomy.ru",
        crm_id2="b7e1-guid",
        comment="Звонить после обеда",
        extra={"city": "Нижний Новгород"},
    )
    make_client(company="Прочий")

    for query in ("buh@iskomy", "b7e1-GUID", "после обеда", "нижний"):
        assert found(query) == ["Искомый"], query


def test_a_license_key_is_found_in_any_formatting() -> None:
    client = make_client(company="Ключевой")
    make_client(company="Без ключа")
    key = license_key_generate(client=client, actor=Actor.system("tests"))

    assert found(key.number) == ["Ключевой"]
    assert found(key.number.lower().replace("-", "")) == ["Ключевой"]
    assert found(key.number.replace("-", " ")) == ["Ключевой"]


def test_exact_email_and_inn_hits_rank_first() -> None:
    make_client(company="А мелкий", comment="пишите на boss@firm.ru или ИНН 7707083893")
    make_client(company="Я главный", email="boss@firm.ru")
    make_client(company="Я налоговый", crm_id1="7707083893")

    assert found("boss@firm.ru") == ["Я главный", "А мелкий"]
    assert found("7707083893") == ["Я налоговый", "А мелкий"]


def test_an_empty_query_lists_everyone() -> None:
    make_client(company="Один")
    make_client(company="Два")

    assert sorted(found("  ")) == ["Два", "Один"]


def test_edits_and_deletions_reach_the_index() -> None:
    client = make_client(company="Старое имя")
    client_update(client=client, actor=Actor.system("tests"), company="Новое имя")

    assert found("новое") == ["Новое имя"]
    assert found("старое") == []
    client_delete(client=client, actor=Actor.system("tests"))
    assert found("новое") == []


def test_a_two_letter_query_still_finds() -> None:
    make_client(company="Юг")
    make_client(company="Север")

    assert found("юг") == ["Юг"]


def test_values_become_searchable_when_their_field_becomes_text(manager_client) -> None:
    field = ClientFieldDefinition.objects.create(
        code="city", label_ru="Город", kind=ExtraFieldKind.CHOICE, choices="Тверь\nОмск"
    )
    make_client(company="Тверской", extra={"city": "Тверь"})
    assert found("тверь") == []

    manager_client.post(
        reverse("admin:clients_clientfielddefinition_change", args=[field.pk]),
        {"label_ru": "Город", "label_en": "", "kind": "text", "choices": "", "order": 0},
    )

    assert found("тверь") == ["Тверской"]


def test_when_many_match_the_newest_come_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("licentia.clients.search.COUNT_LIMIT", 2)
    for name in ("Альфа Медведь", "Бета Медведь", "Гамма Медведь", "Дельта Медведь"):
        make_client(company=name)

    assert found("медведь")[:3] == ["Дельта Медведь", "Гамма Медведь", "Бета Медведь"]
    assert found("альфа медведь") == ["Альфа Медведь"]


def test_a_query_with_a_nul_character_is_searched_without_it(manager_client) -> None:
    make_client(company="Нулевой")

    assert found("нуле\x00вой") == ["Нулевой"]
    response = manager_client.get(reverse("admin:clients_client_changelist"), {"q": "нул\x00"})
    assert [client.company for client in response.context["cl"].result_list] == ["Нулевой"]


@pytest.mark.parametrize(
    "query",
    ["медведь", "медв", "медведь петров", "медв петр", "петр медведица", "волк петрова", "ме пе"],
)
def test_common_words_find_the_newest_clients_having_them_all(
    monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """With the count limit at 2 every word here is common: PostgreSQL takes its path for
    common whole words (or reads the ranges when a word stands for too many); the clients
    found must be those that really have every word, newest first."""
    monkeypatch.setattr("licentia.clients.search.COUNT_LIMIT", 2)
    monkeypatch.setattr("licentia.clients.search.MAX_COMBINATIONS", 4)
    names = [
        "Медведь Петров",
        "Медведица Петрова",
        "Медведев Петр",
        "Волк Петров",
        "Медведь Иванов",
        "Медведь Петрова",
        "Волк Петрова",
        "Медведица Петров",
        "Медведь-Север Петров",
    ]
    made = [make_client(company=name, contact="") for name in names]
    words = query.split()
    having_all = [
        client.company
        for client in reversed(made)
        if all(
            any(part.startswith(word) for part in client.company.lower().replace("-", " ").split())
            for word in words
        )
    ]

    result = found(query)

    expected = having_all[:3] if len(having_all) > 2 else sorted(having_all)
    assert result == expected


def test_postgresql_reads_common_whole_words_newest_first_and_gives_up_on_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the merge of backward index scans is PostgreSQL's path")
    monkeypatch.setattr("licentia.clients.search.MAX_COMBINATIONS", 4)
    made = [
        make_client(company=name, contact="")
        for name in ("Медведь Петров", "Медведица Петрова", "Медведев Петр", "Медведь Петрова")
    ]

    newest = _newest_with_common_words(["медведь", "петров"])
    too_many = _newest_with_common_words(["медв", "петр"])  # 3 × 3 whole words

    assert newest == [made[3].pk, made[0].pk]
    assert too_many is None
    assert _newest_with_common_words(["медведь-север"]) is None  # punctuation: the ranges


def test_underscores_and_percent_signs_typed_are_not_wildcards() -> None:
    make_client(company="Склад", contact="", email="a_b@sklad.ru", comment="скидка 15%")
    make_client(company="Магазин", contact="", email="axb@sklad.ru", comment="скидка 150")

    assert found("a_b") == ["Склад"]
    assert found("15%") == ["Склад"]


def test_a_phone_typed_with_its_plus_and_an_e_mail_domain_find_the_client() -> None:
    romashka = make_client(
        company="ООО «Ромашка»", phone="+7 912 759-10-59", email="anna@romashka.example"
    )
    make_client(company="ООО «Лютик»", phone="+7 495 123-45-67", email="buh@lutik.example")

    for query in ("+7912", "+7 912 759", "romashka.example", "@romashka.example"):
        assert list(client_search(query=query)) == [romashka], query
