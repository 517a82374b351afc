import re

from playwright.sync_api import Page, expect

from licentia.catalog.models import Feature, LicenseType, Product, ProductFeature
from licentia.clients.models import Client
from licentia.core.audit import Actor
from licentia.keys.models import LicenseKey
from licentia.keys.services import key_line_add, license_key_generate
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client


def search(page: Page, query: str) -> None:
    page.goto("/clients/client/")
    page.fill("input[name=q]", query)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))


def test_a_manager_creates_a_client_finds_it_and_generates_a_key(
    page: Page, full_access_user
) -> None:
    sign_in(page, full_access_user.username)
    page.goto("/clients/client/add/")
    page.fill("input[name=company]", "ООО «Северное сияние»")
    page.fill("input[name=contact]", "Ольга Петрова")
    page.fill("input[name=phone]", "8 912 759 10 59")
    page.fill("input[name=email]", "Olga@Siyanie.RU")
    page.locator("button[name=_save], input[name=_save]").first.click()
    expect(page.locator("#result_list, table").first).to_contain_text("Северное сияние")
    make_client(company="ООО Южный ветер", phone="+7 495 123-45-67")

    search(page, "+7 (912) 759-10-59")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Северное сияние")

    search(page, "СИЯНИЕ")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("olga@siyanie.ru")

    rows.first.get_by_role("link", name=re.compile("Северное сияние")).click()
    page.get_by_role("link", name=re.compile("Генерация нового лицензионного ключа")).click()
    page.get_by_role("button", name="Сгенерировать").click()

    client = Client.objects.get(company="ООО «Северное сияние»")
    key = LicenseKey.objects.get(client=client)
    expect(page.get_by_role("link", name=key.number)).to_be_visible()
    assert re.fullmatch(r"DEMO(-[0-9A-Z]{5}){4}", key.number)
    page.screenshot(path="test-results/client-card.png", full_page=True)


def test_a_manager_merges_three_clients_through_the_preview(page: Page, full_access_user) -> None:
    main = make_client(company="Альфа", email="alpha@example.com")
    twins = [make_client(company="Альфа (дубль)"), make_client(company="Альфа, копия")]
    numbers = {
        license_key_generate(client=client, actor=Actor.system("e2e")).number
        for client in (main, *twins)
    }
    sign_in(page, full_access_user.username)

    search(page, "альфа")
    for client in (main, *twins):
        page.locator(f"input[name=_selected_action][value='{client.pk}']").check()
    page.select_option("select[name=action]", "merge_selected")
    page.locator("button[name=index], button[type=submit][title]").first.click()

    expect(page.locator("#header-inner")).to_contain_text("Объединение дублей")
    expect(page.get_by_test_id("merge-moves")).to_contain_text("2")
    page.screenshot(path="test-results/client-merge.png", full_page=True)
    page.get_by_role("button", name="Объединить").click()

    expect(page.get_by_text("Объединено клиентов: 3")).to_be_visible()
    assert list(Client.objects.values_list("company", flat=True)) == ["Альфа"]
    assert set(LicenseKey.objects.filter(client=main).values_list("number", flat=True)) == numbers


def test_a_client_whose_key_holds_a_product_is_not_deleted(page: Page, full_access_user) -> None:
    holder = make_client(company="ООО Держатель лицензии")
    key = license_key_generate(client=holder, actor=Actor.system("e2e"))
    product = Product.objects.create(id=1, name_ru="Базовая")
    ProductFeature.objects.create(
        product=product,
        feature=Feature.objects.create(id=1, name_ru="Основная"),
        license_type=LicenseType.USER,
        count=1,
    )
    key_line_add(key=key, product=product, actor=Actor.system("e2e"))
    sign_in(page, full_access_user.username)

    page.goto(f"/clients/client/{holder.pk}/change/")
    page.get_by_role("link", name=re.compile("Удалить")).first.click()

    refusal = f"В ключе {key.number} есть купленный продукт «Базовая»"
    expect(page.get_by_text(re.compile(refusal))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Да, удалить"))).to_have_count(0)
    assert Client.objects.filter(pk=holder.pk).exists()
