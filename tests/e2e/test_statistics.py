"""The statistics pages draw their charts from the demo's history; the pivot builds, filters
and exports."""

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from licentia.cabinet.demo import demo_seed
from licentia.statistics.admin import PAGES
from tests.e2e.test_cabinet_shell import sign_in

# The chart is drawn once Chart.js made it: the library keeps every chart by its canvas.
CHART_DRAWN = "canvas => Boolean(window.Chart && Chart.getChart(canvas))"


def test_each_statistics_page_draws_its_chart_from_the_demo_history(
    page: Page, full_access_user, tmp_path
) -> None:
    demo_seed(data_dir=tmp_path)
    sign_in(page, full_access_user.username)

    # The work list of the same name (Отчеты) is in the menu too.
    statistics = page.get_by_role("navigation").first.locator("a[href*='/statistics/']")
    statistics.filter(has_text="Новые триалы").click()
    for statistics_page in PAGES:
        name = statistics_page.name
        page.get_by_test_id("statistics-pages").locator(
            f"a[href$='/{statistics_page.route}']"
        ).click()
        expect(page.locator(f"[data-page='{name}']")).to_be_visible()
        canvas = page.get_by_test_id("statistics-chart").locator("canvas")
        expect(canvas).to_have_count(1)
        assert canvas.evaluate(CHART_DRAWN), name
        rows = page.get_by_test_id("statistics-table").locator("tbody tr")
        expect(rows.first).to_be_visible()
        assert "Nothing in this period" not in rows.first.inner_text()
        page.screenshot(path=f"test-results/{name}.png", full_page=True)


def test_the_pivot_builds_configuration_by_month_for_one_product_and_exports_it(
    page: Page, full_access_user, tmp_path
) -> None:
    demo_seed(data_dir=tmp_path)
    sign_in(page, full_access_user.username)

    page.get_by_role("navigation").first.get_by_role("link", name="Анализ метрик").click()
    page.select_option("select[name=rows]", "configuration")
    page.select_option("select[name=columns]", "month")
    page.select_option("select[name=measure]", "keys")
    page.select_option("select[name=f_product]", label="102 · Торговля PRO")
    page.get_by_test_id("statistics-show").click()

    table = page.get_by_test_id("statistics-table")
    expect(table.locator("thead th").first).to_have_text("Конфигурация")
    assert table.locator("thead th").count() >= 4  # label, months, total
    labels = table.locator("tbody tr td:first-child").all_inner_texts()
    assert labels[-1] == "Итого"
    assert set(labels[:-1]) <= {
        "Управление торговлей 11.5",
        "Комплексная автоматизация 2.5",
        "ERP 2.5",
    }
    assert len(labels) == 2  # only the one key holding Торговля PRO
    assert page.get_by_test_id("statistics-chart").locator("canvas").evaluate(CHART_DRAWN)
    page.screenshot(path="test-results/statistics-pivot.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.reader(io.StringIO(text)))
    assert exported[0][0] == "Конфигурация"
    assert exported[-1][0] == "Итого"
    assert [row[0] for row in exported[1:]] == labels
