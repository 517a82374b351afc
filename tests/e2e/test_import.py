from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from licentia.catalog.models import LicenseType
from licentia.clients.models import Client, ClientSource
from licentia.keys.models import LicenseKey
from licentia.transfer.models import ImportBatch
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import make_product

# «Номер» is no usual header of a key: the manager maps it by hand.
CLIENTS_CSV = """Компания;ИНН;E-mail;Номер;Продукт;Множитель;Окончание
ООО Ромашка;7707083893;buh@romashka.ru;OLD-10001-AAA;1;2;31.12.2030
ООО Лютик;;lutik@firm.ru;OLD-10002-BBB;1;1;
;;nobody@firm.ru;;;;
ООО Плохая;;bad@firm.ru;OLD-10003-CCC;99;1;
"""


def count_of(page: Page, label: str) -> Locator:
    return page.get_by_test_id("import-counts").locator(f"dt:text-is('{label}') + dd")


def upload_and_map(page: Page, file: Path, *, dry_run: bool) -> None:
    sidebar = page.get_by_role("navigation").first
    expect(sidebar.locator("a[href$='/transfer/importbatch/']")).to_contain_text("Импорт")
    sidebar.locator("a[href$='/transfer/importbatch/']").click()
    page.locator("a[href$='/transfer/importbatch/add/']").first.click()
    expect(page.get_by_text("Импорт клиентов и ключей").first).to_be_visible()
    page.set_input_files("input[name=file]", str(file))
    page.get_by_role("button", name="Загрузить и просмотреть").click()

    expect(page.get_by_text("Соответствие колонок: клиенты.csv")).to_be_visible()
    preview = page.get_by_test_id("import-preview")
    expect(preview).to_contain_text("ООО Ромашка")
    expect(preview).to_contain_text("OLD-10002-BBB")
    expect(page.locator("select[name=column_0]")).to_have_value("company")
    expect(page.locator("select[name=column_1]")).to_have_value("crm_id1")
    expect(page.locator("select[name=column_3]")).to_have_value("")
    page.select_option("select[name=column_3]", label="Лицензионный ключ")
    if dry_run:
        page.get_by_label(
            "Пробный прогон: проверить все строки и показать итог, ничего не меняя"
        ).check()
    page.get_by_role("button", name="Импорт", exact=True).click()


def test_a_manager_previews_maps_dry_runs_then_imports_a_file(
    page: Page, full_access_user, tmp_path: Path
) -> None:
    make_product(1, (10, LicenseType.USER, 1, True))
    file = tmp_path / "клиенты.csv"
    file.write_text(CLIENTS_CSV, encoding="utf-8")
    sign_in(page, full_access_user.username)

    upload_and_map(page, file, dry_run=True)

    progress = page.get_by_test_id("import-progress")
    expect(progress).to_contain_text("Готово")
    expect(progress).to_contain_text("пробный прогон: ничего не изменено")
    expect(progress).to_contain_text("4 / 4")
    expect(count_of(page, "Клиентов создано")).to_have_text("2")
    expect(count_of(page, "Ключей создано")).to_have_text("2")
    expect(count_of(page, "Строк отклонено")).to_have_text("2")
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("4")
    expect(errors.nth(0)).to_contain_text("Для нового клиента нужна компания.")
    expect(errors.nth(1)).to_contain_text("5")
    expect(errors.nth(1)).to_contain_text("Продукта 99 нет.")
    page.screenshot(path="test-results/import-dry-run.png", full_page=True)
    assert Client.objects.count() == 0

    upload_and_map(page, file, dry_run=False)

    expect(progress).to_contain_text("Готово")
    expect(progress).not_to_contain_text("пробный прогон")
    expect(count_of(page, "Ключей создано")).to_have_text("2")
    expect(page.get_by_test_id("import-errors").locator("tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Все импорты").click()
    batches = page.locator("#result_list tbody tr")
    expect(batches).to_have_count(2)
    expect(batches.first).to_contain_text("клиенты.csv")
    expect(batches.first).to_contain_text("готово")
    page.screenshot(path="test-results/import-list.png", full_page=True)
    assert sorted(Client.objects.values_list("company", "source")) == [
        ("ООО Лютик", ClientSource.IMPORT),
        ("ООО Ромашка", ClientSource.IMPORT),
    ]
    assert LicenseKey.objects.get(number="OLD-10001-AAA").lines.get().multiplier == 2
    assert ImportBatch.objects.filter(dry_run=True).count() == 1
