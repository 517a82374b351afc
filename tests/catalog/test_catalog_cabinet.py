import pytest
from django.urls import reverse
from django.utils import translation

from licentia.catalog.models import (
    Binding,
    DeletedFeatureId,
    Feature,
    LicenseType,
    Product,
    effective_binding,
)
from licentia.catalog.services import product_ends_trials_errors
from licentia.core.models import AuditEvent
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_a_feature_id_is_proposed_and_never_reused(manager_client) -> None:
    Feature.objects.create(id=7, name_ru="Старая")
    add_url = reverse("admin:catalog_feature_add")

    assert manager_client.get(add_url).context["adminform"].form.initial["id"] == 8
    manager_client.post(reverse("admin:catalog_feature_delete", args=[7]), {"post": "yes"})
    assert DeletedFeatureId.objects.filter(pk=7).exists()

    refused = manager_client.post(add_url, {"id": 7, "name_ru": "Новая", "name_en": ""})
    assert "id" in refused.context["adminform"].form.errors
    assert manager_client.get(add_url).context["adminform"].form.initial["id"] == 8


def test_a_feature_in_use_cannot_be_deleted(manager_client) -> None:
    make_product(1, (54, LicenseType.USER, 2, True), name_ru="Базовая")
    url = reverse("admin:catalog_feature_delete", args=[54])

    page = manager_client.get(url).content.decode()
    manager_client.post(url, {"post": "yes"})

    assert "Базовая" in page
    assert Feature.objects.filter(pk=54).exists()


def test_a_product_is_created_with_feature_lines_and_sanitised_text(manager_client) -> None:
    Feature.objects.create(id=54, name_ru="Коты")
    Feature.objects.create(id=55, name_ru="Собаки")
    lines = {
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-feature": "54",
        "lines-0-license_type": "USER",
        "lines-0-count": "2",
        "lines-0-multiplier_allowed": "on",
        "lines-1-feature": "55",
        "lines-1-license_type": "HOST",
        "lines-1-count": "1",
        "lines-1-idle_limit_days": "30",
    }

    response = manager_client.post(
        reverse("admin:catalog_product_add"),
        {
            "id": "10",
            "name_ru": "PRO",
            "trial_days": "0",
            "trial_counting": "calendar",
            "activation_text_ru": "<p>Спасибо!</p><script>alert(1)</script>",
            **lines,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(pk=10)
    assert product.activation_text_ru == "<p>Спасибо!</p>"
    assert [
        (line.feature_id, line.license_type, line.effective_binding) for line in product.lines.all()
    ] == [
        (54, "USER", "floating"),
        (55, "HOST", "bound"),
    ]
    event = AuditEvent.objects.get(action="product.create")
    assert len(event.after["lines"]) == 2


def test_an_idle_limit_on_a_floating_line_is_refused(manager_client) -> None:
    Feature.objects.create(id=54, name_ru="Коты")

    response = manager_client.post(
        reverse("admin:catalog_product_add"),
        product_form(11, name_ru="Ошибка", **{"lines-0-idle_limit_days": "5"}),
    )

    assert response.status_code == 200
    assert not Product.objects.filter(pk=11).exists()


def test_a_line_is_bound_as_set_or_as_its_type_is_by_default() -> None:
    defaults = {kind: effective_binding(kind, "") for kind in LicenseType.values}

    assert defaults == {
        "USER": "floating",
        "HOST": "bound",
        "DATABASE": "bound",
        "PROCESS": "floating",
        "TOKEN": "",
    }
    assert effective_binding(LicenseType.USER, Binding.BOUND) == "bound"
    assert effective_binding(LicenseType.TOKEN, Binding.BOUND) == ""


def product_form(product_id: int, **fields: object) -> dict[str, object]:
    return {
        "id": str(product_id),
        "name_ru": f"Продукт {product_id}",
        "trial_days": "0",
        "trial_counting": "calendar",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-feature": "54",
        "lines-0-license_type": "USER",
        "lines-0-count": "1",
        **fields,
    }


def test_the_product_card_is_in_tabs_with_the_feature_lines_among_them(manager_client) -> None:
    product = make_product(20, (54, LicenseType.USER, 1, False), name_ru="Торговля")

    page = manager_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    html = page.content.decode()

    tabs = [str(fieldset[0]) for fieldset in page.context["adminform"].model_admin.fieldsets]
    assert tabs == ["Основное", "Описание RU", "Описание EN", "Фичи", "Триал"]
    nav = html[html.index('data-testid="product-tabs"') :]
    assert nav.index("Описание EN") < nav.index("Фичи") < nav.index("Триал")
    features_tab = html[html.index("fieldset-фичи") : html.index("fieldset-триал")]
    assert 'id="lines-group"' in features_tab
    assert html.count('id="lines-group"') == 1


def test_a_card_with_a_wrong_feature_line_opens_on_the_features_tab(manager_client) -> None:
    Feature.objects.create(id=54, name_ru="Коты")

    page = manager_client.post(
        reverse("admin:catalog_product_add"), product_form(21, **{"lines-0-count": "0"})
    )

    assert page.status_code == 200
    assert page.context["active_tab"] == "фичи"
    assert page.context["lines_error_count"] == 1


def test_the_trials_picker_offers_trial_products_only_and_never_the_product_itself(
    manager_client,
) -> None:
    card = make_product(30, (54, LicenseType.USER, 1, False), trial_days=14)
    make_product(31, (54, LicenseType.USER, 1, False), trial_days=30)
    make_product(32, (54, LicenseType.USER, 1, False))
    make_product(
        33, (54, LicenseType.USER, 1, False), trial_days=30, permanent_instead_of_trial=True
    )

    page = manager_client.get(reverse("admin:catalog_product_change", args=[card.pk]))

    offered = page.context["adminform"].form.fields["ends_trials"].queryset
    assert list(offered.values_list("pk", flat=True)) == [31]


def test_a_product_that_gives_no_trial_or_the_product_itself_is_refused_as_a_trial_to_end(
    manager_client,
) -> None:
    card = make_product(40, (54, LicenseType.USER, 1, False), trial_days=14)
    make_product(41, (54, LicenseType.USER, 1, False))

    refused = manager_client.post(
        reverse("admin:catalog_product_change", args=[card.pk]),
        product_form(40, trial_days="14", ends_trials=["40", "41"]),
    )

    assert refused.status_code == 200
    assert "ends_trials" in refused.context["adminform"].form.errors
    assert not card.ends_trials.exists()


def test_the_service_names_why_products_cannot_be_trials_to_end() -> None:
    card = make_product(50, (54, LicenseType.USER, 1, False), trial_days=14)
    plain = make_product(51, (54, LicenseType.USER, 1, False), name_ru="Без триала")
    trial = make_product(52, (54, LicenseType.USER, 1, False), trial_days=7)

    with translation.override("ru"):
        errors = product_ends_trials_errors(product=card, trials=[card, plain, trial])

    assert errors == [
        "Продукт не указывает сам себя: его покупка и так завершает его собственный триал.",
        "Указать можно только продукты с триалом; у этих триала нет: Без триала (51).",
    ]
    assert product_ends_trials_errors(product=card, trials=[trial]) == []
