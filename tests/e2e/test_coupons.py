import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from licentia.catalog.models import LicenseType
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from tests.e2e.test_cabinet_shell import sign_in
from tests.factories import DistributorFactory, make_client, make_product


def test_coupons_are_generated_one_activated_on_a_trial_key_and_deactivated(
    page: Page, full_access_user
) -> None:
    actor = Actor.system("e2e")
    trial_product = make_product(1, (10, LicenseType.USER, 1, False), trial_days=14)
    pro = make_product(2, (10, LicenseType.USER, 5, True))
    pro.name_ru = "Зоопарк PRO"
    pro.save()
    pro.ends_trials.add(trial_product)
    DistributorFactory(name="Партнёр Север")
    key = license_key_generate(client=make_client(company="ООО Покупатель"), actor=actor)
    now = timezone.now()
    key_line_add(
        key=key,
        product=trial_product,
        actor=actor,
        is_trial=True,
        starts_at=now,
        expires_at=now + timedelta(days=10),
    )
    sign_in(page, full_access_user.username)

    page.get_by_role("navigation").first.get_by_role("link", name="Генератор купонов").click()
    page.select_option("select[name=kind]", "new_product")
    page.select_option("select[name=distributor]", label="Партнёр Север")
    page.fill("input[name=invoice_number]", "СЧ-501")
    page.fill("input[name=count]", "3")
    page.select_option("select[name=form-0-product]", label="Зоопарк PRO (2)")
    page.screenshot(path="test-results/coupon-generator.png", full_page=True)
    page.get_by_role("button", name="Сгенерировать").click()
    codes = page.get_by_test_id("coupon-codes")
    expect(codes).to_have_value(re.compile(r"^(DEMOUPD(-[0-9A-Z]{5}){4}\n?){3}$"))
    code = codes.input_value().splitlines()[0]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("copy-codes").click()
    assert page.evaluate("navigator.clipboard.readText()") == codes.input_value()
    page.screenshot(path="test-results/coupon-batch.png", full_page=True)

    page.get_by_role("navigation").first.get_by_role("link", name="Активировать купон").click()
    page.fill("input[name=key]", key.number.lower())
    page.fill("input[name=coupon]", code.replace("-", " "))
    page.get_by_role("button", name="Активировать").click()
    expect(page.get_by_text(f"Купон {code} активирован")).to_be_visible()

    page.get_by_text("Продукты, привязанные к ключу", exact=True).click()
    lines = page.get_by_test_id("key-line")
    expect(lines.filter(has_text="Продукт 1")).to_contain_text("Завершена покупкой")
    expect(lines.filter(has_text="Зоопарк PRO")).to_contain_text("Бессрочная")
    page.screenshot(path="test-results/coupon-key-card.png", full_page=True)

    page.get_by_text("Активированные купоны", exact=True).click()
    activation = page.get_by_test_id("activation")
    expect(activation).to_contain_text(code)
    expect(activation).to_contain_text("— → Зоопарк PRO бессрочно")
    activation.get_by_role("link", name="Деактивировать").click()
    page.get_by_role("button", name="Деактивировать").click()
    expect(page.get_by_text(f"Купон {code} деактивирован")).to_be_visible()

    page.get_by_text("Продукты, привязанные к ключу", exact=True).click()
    expect(lines.filter(has_text="Продукт 1")).to_contain_text("Истекает через")
    expect(lines.filter(has_text="Зоопарк PRO")).to_contain_text("Удалена деактивацией купона")
