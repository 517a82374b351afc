import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from licentia.catalog.models import Feature, Product
from licentia.core.audit import Actor
from licentia.core.models import VendorSettings
from licentia.core.roles import (
    FULL_ACCESS,
    READ_ONLY,
    ROLE_APP_LABELS,
    ROLE_NAMES,
    SALES,
    SUPPORT,
)
from licentia.keys.services import license_key_generate
from tests.factories import DistributorFactory, make_client

pytestmark = pytest.mark.django_db


def codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in group.permissions.select_related("content_type")
    }


def test_the_four_roles_exist_as_groups() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_NAMES)


def every_permission(action: str | None = None) -> set[str]:
    permissions = Permission.objects.filter(content_type__app_label__in=ROLE_APP_LABELS).exclude(
        content_type__app_label="auth", content_type__model="permission"
    )
    return {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in permissions.select_related("content_type")
        if action is None or permission.codename.startswith(f"{action}_")
    }


def test_full_access_can_do_everything_the_cabinet_offers() -> None:
    granted = codenames(FULL_ACCESS)

    assert granted == every_permission()
    assert {"core.change_vendorsettings", "core.delete_user", "clients.delete_client"} <= granted
    assert "core.delete_auditevent" not in granted


def test_read_only_may_only_view() -> None:
    granted = codenames(READ_ONLY)

    assert granted == every_permission("view")
    assert {"core.view_auditevent", "clients.view_client", "keys.view_licensekey"} <= granted


def test_support_reads_clients_and_keys_and_sees_nothing_of_the_settings() -> None:
    granted = codenames(SUPPORT)

    assert {"clients.view_client", "keys.view_licensekey"} <= granted
    assert "clients.change_client" not in granted
    assert not {name for name in granted if name.startswith(("core.", "auth."))}


def test_sales_manage_clients_and_keys_and_see_nothing_of_the_settings() -> None:
    granted = codenames(SALES)

    assert {"clients.add_client", "clients.change_client", "keys.add_licensekey"} <= granted
    assert "clients.view_clientfielddefinition" in granted
    assert "clients.change_clientfielddefinition" not in granted
    assert not {name for name in granted if name.startswith(("core.", "auth."))}


def test_a_read_only_user_opens_the_settings_without_a_save_button(client, read_only_user) -> None:
    client.force_login(read_only_user)

    response = client.get(reverse("admin:core_vendorsettings_change", args=[1]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "DEMO" in page
    assert 'name="_save"' not in page
    assert 'name="key_prefix"' not in page


def test_the_server_refuses_a_change_from_a_read_only_user(client, read_only_user) -> None:
    client.force_login(read_only_user)

    response = client.post(
        reverse("admin:core_vendorsettings_change", args=[1]),
        {
            "key_prefix": "EVIL",
            "lease_seconds": 600,
            "offline_grace_days": 7,
            "first_reminder_days": 30,
            "second_reminder_days": 3,
        },
    )

    assert response.status_code == 403
    assert VendorSettings.objects.get().key_prefix == "DEMO"


def test_a_read_only_user_cannot_add_users(client, read_only_user) -> None:
    client.force_login(read_only_user)

    assert client.get(reverse("admin:core_user_add")).status_code == 403
    listing = client.get(reverse("admin:core_user_changelist")).content.decode()
    assert read_only_user.username in listing
    assert reverse("admin:core_user_add") not in listing


def test_a_read_only_user_opens_every_list_and_card_and_can_change_none(
    client, read_only_user
) -> None:
    holder = make_client()
    key = license_key_generate(client=holder, actor=Actor.system("tests"))
    feature = Feature.objects.create(id=1, name_ru="Основная")
    product = Product.objects.create(id=1, name_ru="Базовая")
    distributor = DistributorFactory()
    client.force_login(read_only_user)
    cards = {
        "clients_client": holder.pk,
        "keys_licensekey": key.pk,
        "catalog_feature": feature.pk,
        "catalog_product": product.pk,
        "clients_distributor": distributor.pk,
    }

    for name, pk in cards.items():
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        card = client.get(reverse(f"admin:{name}_change", args=[pk]))
        assert card.status_code == 200, name
        assert 'name="_save"' not in card.content.decode(), name
        assert (
            client.post(reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"}).status_code
            == 403
        )

    refused = client.post(
        reverse("admin:keys_licensekey_detail_add_line", args=[key.pk]),
        {"product": product.pk, "multiplier": 1},
    )
    assert refused.status_code == 403
    assert not key.lines.exists()
