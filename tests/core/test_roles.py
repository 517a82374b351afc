import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from licentia.core.models import VendorSettings
from licentia.core.roles import FULL_ACCESS, READ_ONLY, ROLE_NAMES, SALES, SUPPORT

pytestmark = pytest.mark.django_db


def codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{permission.content_type.app_label}.{permission.codename}"
        for permission in group.permissions.select_related("content_type")
    }


def test_the_four_roles_exist_as_groups() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_NAMES)


def test_full_access_can_do_everything_the_cabinet_offers() -> None:
    assert codenames(FULL_ACCESS) == {
        "core.view_vendorsettings",
        "core.change_vendorsettings",
        "core.view_auditevent",
        "core.view_user",
        "core.add_user",
        "core.change_user",
        "core.delete_user",
        "auth.view_group",
        "auth.add_group",
        "auth.change_group",
        "auth.delete_group",
    }


def test_read_only_may_only_view() -> None:
    assert codenames(READ_ONLY) == {
        "core.view_vendorsettings",
        "core.view_auditevent",
        "core.view_user",
        "auth.view_group",
    }


def test_support_and_sales_see_nothing_of_the_settings() -> None:
    assert not {name for name in codenames(SUPPORT) | codenames(SALES) if name.startswith("core.")}


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
