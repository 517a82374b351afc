import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from licentia.portal.services import sign_in_link_issue
from licentia.releases.models import Release
from licentia_client.client import LicentiaClient
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_client, make_product


def test_a_release_made_in_the_cabinet_is_offered_to_a_licensed_key_only_and_in_its_cabinet(
    page: Page, full_access_user, live_server
) -> None:
    actor = Actor.system("e2e")
    product = make_product(5, (50, LicenseType.USER, 1, False), name_ru="Бухгалтерия ПРОФ")
    licensed = license_key_generate(
        client=make_client(company="ООО Покупатель", email="it@pokupatel.example"), actor=actor
    )
    key_line_add(
        key=licensed,
        product=product,
        actor=actor,
        starts_at=timezone.now() - timedelta(days=1),
    )
    unlicensed = license_key_generate(client=make_client(company="ООО Прохожий"), actor=actor)
    sign_in(page, full_access_user.username)

    page.goto("/releases/distribution/add/")
    page.fill("input[name=identifier]", "buh-prof")
    page.fill("input[name=name_ru]", "Бухгалтерия ПРОФ")
    page.fill("input[name=developer]", "ООО Разработчик")
    page.select_option("select[name=linked_products]", label="Бухгалтерия ПРОФ (5)")
    page.locator("button[name=_save]").click()
    expect(page.locator("#result_list")).to_contain_text("buh-prof")

    page.goto("/releases/release/add/")
    page.select_option("select[name=distribution]", label="Бухгалтерия ПРОФ")
    page.fill("input[name=version]", "4.0.10")
    page.fill("input[name=released_on]", timezone.localdate().strftime("%d.%m.%Y"))
    page.fill("textarea[name=whats_new_ru]", "Загрузка выписок")
    page.get_by_role("link", name=re.compile("Добавить ещ")).first.click()
    expect(page.locator("input[name=files-1-name]")).to_be_visible()
    for index, name in enumerate(["setup.zip", "manual.pdf"]):
        page.fill(f"input[name=files-{index}-name]", name)
        page.fill(f"input[name=files-{index}-url]", f"https://files.example.ru/4.0.10/{name}")
        page.fill(f"input[name=files-{index}-size]", str(1000 * (index + 1)))
    page.locator("button[name=_save]").click()
    expect(page.locator("#result_list")).to_contain_text("4.0.10")
    assert Release.objects.get().files.count() == 2

    client = LicentiaClient(live_server.url)
    offered = client.releases(licensed.number, distribution="buh-prof", installed="4.0.9")
    assert [(m["version"], [f["name"] for f in m["files"]]) for m in offered] == [
        ("4.0.10", ["setup.zip", "manual.pdf"])
    ]
    assert offered[0]["changelog"] == "4.0.10:\nЗагрузка выписок"
    assert client.releases(unlicensed.number, distribution="buh-prof") == []

    # The licensed client finds it in its own cabinet, with both files.
    link = sign_in_link_issue(client=licensed.client, email="it@pokupatel.example", actor=actor)
    page.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    page.locator("#open-cabinet").click()
    page.get_by_role("link", name="Дистрибутивы программ").click()
    expect(page.locator("main")).to_contain_text("Бухгалтерия ПРОФ")
    expect(page.locator("main")).to_contain_text("Загрузка выписок")
    expect(page.get_by_role("link", name="setup.zip")).to_have_attribute(
        "href", re.compile("/releases/download/")
    )
    expect(page.get_by_role("link", name="manual.pdf")).to_be_visible()
