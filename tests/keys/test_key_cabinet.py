import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature
from licentia.clients.models import Client
from licentia.core.audit import Actor
from licentia.core.models import AuditEvent
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.services import key_line_add, key_update, license_key_generate
from tests.factories import make_client

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


@pytest.fixture
def cats() -> Product:
    feature = Feature.objects.create(id=54, name_ru="Коты", name_en="Cats")
    product = Product.objects.create(id=1, name_ru="Базовая")
    ProductFeature.objects.create(
        product=product,
        feature=feature,
        license_type=LicenseType.USER,
        count=2,
        multiplier_allowed=True,
    )
    return product


@pytest.fixture
def key() -> LicenseKey:
    return license_key_generate(client=make_client(company="Держатель"), actor=ACTOR)


def card(manager_client, key: LicenseKey) -> str:
    return manager_client.get(
        reverse("admin:keys_licensekey_change", args=[key.pk])
    ).content.decode()


def key_form(key: LicenseKey, **changes: object) -> dict[str, object]:
    client = key.client
    form = {
        "client": client.pk,
        "contact": client.contact,
        "phone": client.phone,
        "email": client.email,
        "distributor": "",
        "manager": "",
        "comment": client.comment,
    }
    return {**form, **changes}


def test_a_manager_adds_a_product_by_hand_and_sees_its_features(manager_client, key, cats) -> None:
    url = reverse("admin:keys_licensekey_detail_add_line", args=[key.pk])

    response = manager_client.post(
        url,
        {
            "product": cats.pk,
            "multiplier": 3,
            "starts_at": "01.01.2026",
        },
    )

    assert response.status_code == 302
    line = KeyLine.objects.get(key=key)
    assert line.multiplier == 3
    assert line.expires_at is None
    page = card(manager_client, key)
    assert "6 USER Коты (54)" in page
    assert "Бессрочная" in page
    assert AuditEvent.objects.filter(action="key_line.add").exists()


def test_an_expiry_given_as_a_date_holds_through_that_day_in_the_vendors_zone(
    manager_client, key, cats, settings
) -> None:
    settings.TIME_ZONE = "Europe/Moscow"
    url = reverse("admin:keys_licensekey_detail_add_line", args=[key.pk])

    response = manager_client.post(
        url,
        {
            "product": cats.pk,
            "multiplier": 1,
            "starts_at": "15.03.2026 14:05",
            "expires_at": "15.03.2027",
        },
    )

    assert response.status_code == 302
    line = KeyLine.objects.get(key=key)
    assert line.starts_at.isoformat() == "2026-03-15T11:05:00+00:00"
    assert line.expires_at.isoformat() == "2027-03-15T20:59:59.999999+00:00"


def test_the_add_product_page_proposes_now_as_the_start_and_names_the_date_rule(
    manager_client, key
) -> None:
    page = manager_client.get(reverse("admin:keys_licensekey_detail_add_line", args=[key.pk]))
    html = page.content.decode()

    start = re.search(r'name="starts_at" value="([^"]+)"', html)
    assert start is not None
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", start.group(1))
    assert "Если указана только дата, лицензия действует до конца этого дня." in html
    assert "vDateField" not in html


def test_adding_a_line_refuses_an_expiry_before_the_start(manager_client, key, cats) -> None:
    response = manager_client.post(
        reverse("admin:keys_licensekey_detail_add_line", args=[key.pk]),
        {
            "product": cats.pk,
            "multiplier": 1,
            "starts_at": "01.05.2026",
            "expires_at": "01.04.2026",
        },
    )

    assert response.status_code == 200
    assert "expires_at" in response.context["form"].errors
    assert not KeyLine.objects.exists()


def test_a_manager_ends_a_line(manager_client, key, cats) -> None:
    line = key_line_add(key=key, product=cats, actor=ACTOR)
    url = reverse("admin:keys_keyline_end", args=[line.pk])

    assert "Базовая" in manager_client.get(url).content.decode()
    manager_client.post(url)

    line.refresh_from_db()
    assert line.state == LineState.ENDED_BY_MANAGER
    assert "Завершена менеджером" in card(manager_client, key)


def test_blocking_from_the_card_asks_first_and_then_shows_a_banner(
    manager_client, key, cats
) -> None:
    key_line_add(key=key, product=cats, actor=ACTOR)
    card_url = reverse("admin:keys_licensekey_change", args=[key.pk])
    block_url = reverse("admin:keys_licensekey_detail_block", args=[key.pk])
    assert "Заблокировать" in card(manager_client, key)
    assert "Разблокировать" not in card(manager_client, key)

    question = manager_client.get(block_url).content.decode()
    assert key.number in question
    assert key.client.company in question
    assert "0 открытых сессий" in question
    key.refresh_from_db()
    assert not key.blocked

    manager_client.post(block_url)

    key.refresh_from_db()
    assert key.blocked
    page = manager_client.get(card_url).content.decode()
    assert 'data-testid="key-blocked-banner"' in page
    assert "Разблокировать" in page
    listing = manager_client.get(reverse("admin:keys_licensekey_changelist")).content.decode()
    assert "заблокирован" in listing
    assert AuditEvent.objects.filter(action="license_key.block").exists()

    manager_client.post(reverse("admin:keys_licensekey_detail_unblock", args=[key.pk]))
    key.refresh_from_db()
    assert not key.blocked
    assert 'data-testid="key-blocked-banner"' not in card(manager_client, key)


def test_saving_the_card_never_blocks_the_key(manager_client, key) -> None:
    url = reverse("admin:keys_licensekey_change", args=[key.pk])

    manager_client.post(url, key_form(key, blocked="on"))

    key.refresh_from_db()
    assert not key.blocked


def test_the_clients_fields_are_edited_from_the_key_card(manager_client, key) -> None:
    url = reverse("admin:keys_licensekey_change", args=[key.pk])

    manager_client.post(url, key_form(key, contact="Новый контакт", email="New@Client.ru"))

    client = Client.objects.get(pk=key.client_id)
    assert client.contact == "Новый контакт"
    assert client.email == "new@client.ru"


def test_a_key_is_rebound_to_another_client(manager_client, key) -> None:
    other = make_client(company="Новый владелец")
    url = reverse("admin:keys_licensekey_change", args=[key.pk])

    manager_client.post(url, key_form(key, client=other.pk))

    key.refresh_from_db()
    assert key.client == other
    event = AuditEvent.objects.get(action="license_key.rebind")
    assert event.after["client"] == other.pk


def test_a_key_with_products_cannot_be_deleted(manager_client, key, cats) -> None:
    key_line_add(key=key, product=cats, actor=ACTOR)

    manager_client.post(reverse("admin:keys_licensekey_delete", args=[key.pk]), {"post": "yes"})

    assert LicenseKey.objects.filter(pk=key.pk).exists()


def test_a_client_whose_key_holds_a_product_cannot_be_deleted(manager_client, key, cats) -> None:
    key_line_add(key=key, product=cats, actor=ACTOR)
    url = reverse("admin:clients_client_delete", args=[key.client_id])

    page = manager_client.get(url).content.decode()
    manager_client.post(url, {"post": "yes"})

    assert "Вместо удаления объедините" in page
    assert Client.objects.filter(pk=key.client_id).exists()


def test_the_key_list_is_searched_by_key_in_any_formatting(manager_client, key) -> None:
    other = license_key_generate(client=make_client(company="Другой"), actor=ACTOR)
    url = reverse("admin:keys_licensekey_changelist")

    sloppy = key.number.lower().replace("-", " ")
    found = manager_client.get(url, {"q": sloppy}).context["cl"].result_list
    assert [item.number for item in found] == [key.number]
    by_company = manager_client.get(url, {"q": "ДРУГОЙ"}).context["cl"].result_list
    assert [item.number for item in by_company] == [other.number]


def _keys_with_products(count: int, product: Product) -> list[LicenseKey]:
    made = []
    for index in range(count):
        key = license_key_generate(client=make_client(company=f"Клиент {index}"), actor=ACTOR)
        key_line_add(key=key, product=product, actor=ACTOR, is_trial=index % 2 == 0)
        made.append(key)
    return made


def test_the_key_list_takes_as_many_queries_for_thirty_keys_as_for_three(
    manager_client, cats, page_and_queries, django_assert_max_num_queries
) -> None:
    url = reverse("admin:keys_licensekey_changelist")
    _keys_with_products(3, cats)
    page_and_queries(url)  # the session and the process caches are read once
    _page_of_three, bound = page_and_queries(url)

    keys = _keys_with_products(27, cats)
    with django_assert_max_num_queries(bound):
        page = manager_client.get(url).content.decode()

    assert all(key.number in page for key in keys)
    states = re.findall(r'class="field-state[^>]*><span class="lc-state[^>]*>([^<]*)<', page)
    # The first of every two keys made holds a trial: 2 of the first 3, 14 of the next 27.
    assert (states.count("триал"), states.count("активен")) == (16, 14)


def test_the_key_card_takes_as_many_queries_for_thirty_lines_as_for_three(
    manager_client, key, cats, page_and_queries, django_assert_max_num_queries
) -> None:
    url = reverse("admin:keys_licensekey_change", args=[key.pk])
    for _index in range(3):
        key_line_add(key=key, product=cats, actor=ACTOR)
    page_and_queries(url)
    _card_of_three, bound = page_and_queries(url)

    for _index in range(27):
        key_line_add(key=key, product=cats, actor=ACTOR)
    with django_assert_max_num_queries(bound):
        page = manager_client.get(url).content.decode()

    assert page.count('data-testid="key-line"') == 30


def test_the_key_card_saves_everything_or_nothing(key, monkeypatch) -> None:
    holder = key.client
    other = make_client(company="Другой")

    def refuse(**kwargs: object) -> None:
        raise ValidationError("refused")

    monkeypatch.setattr("licentia.keys.services.key_set_blocked", refuse)
    with pytest.raises(ValidationError):
        key_update(
            key=key, actor=ACTOR, blocked=True, client=other, client_changes={"contact": "Анна"}
        )
    key.refresh_from_db()
    holder.refresh_from_db()
    assert (key.client_id, key.blocked, holder.contact) == (holder.pk, False, "Иван Петров")

    monkeypatch.undo()
    key_update(key=key, actor=ACTOR, blocked=True, client=other, client_changes={"contact": "Анна"})

    key.refresh_from_db()
    holder.refresh_from_db()
    assert (key.client_id, key.blocked, holder.contact) == (other.pk, True, "Анна")
    saved = AuditEvent.objects.filter(
        action__in=["client.update", "license_key.rebind", "license_key.block"]
    )
    assert list(saved.order_by("id").values_list("action", flat=True)) == [
        "client.update",
        "license_key.rebind",
        "license_key.block",
    ]


def test_the_key_list_shows_terms_as_chips_the_nearest_end_and_filters_by_them(
    manager_client, key, cats
) -> None:
    now = timezone.now()
    ended = now - timedelta(days=40)
    key_line_add(
        key=key,
        product=cats,
        actor=ACTOR,
        is_trial=True,
        starts_at=ended - timedelta(days=30),
        expires_at=ended,
    )
    soon = license_key_generate(client=make_client(company="Скоро"), actor=ACTOR)
    key_line_add(key=soon, product=cats, actor=ACTOR, expires_at=now + timedelta(days=10))
    listing = reverse("admin:keys_licensekey_changelist")

    page = manager_client.get(listing).content.decode()
    expired = manager_client.get(listing, {"state": "expired"}).content.decode()
    expiring = manager_client.get(listing, {"expiring": "30"}).content.decode()
    by_product = manager_client.get(listing, {"lines__product__id__exact": cats.pk})

    ended_day = timezone.localtime(ended).strftime("%d.%m.%Y")
    soon_day = timezone.localtime(now + timedelta(days=10)).strftime("%d.%m.%Y")
    assert f'<span class="lc-key">{key.number}</span>' in page
    assert f"Базовая · истёк {ended_day}" in page
    assert f"Базовая · до {soon_day}" in page
    assert f"истёк {ended_day}" in page
    assert soon_day in page
    assert "lc-state-expired" in page
    assert "lc-state-expiring" in page
    assert key.number in expired
    assert soon.number not in expired
    assert soon.number in expiring
    assert key.number not in expiring
    assert by_product.status_code == 200
    assert "Истекает в течение" in page
    assert "30 дней" in page
