import pytest
from django.urls import reverse

from licentia.catalog.models import (
    Binding,
    DeletedFeatureId,
    Feature,
    LicenseType,
    Product,
    effective_binding,
)
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
        {
            "id": "11",
            "name_ru": "Ошибка",
            "trial_days": "0",
            "trial_counting": "calendar",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-feature": "54",
            "lines-0-license_type": "USER",
            "lines-0-count": "1",
            "lines-0-idle_limit_days": "5",
        },
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
