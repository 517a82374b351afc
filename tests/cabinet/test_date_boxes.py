"""Every page of the cabinet where a manager enters a date has the same box: «15.03.2025» with
an optional time and a calendar button, and none of the admin's calendar inputs, whose script
adds a time-zone note when the manager's computer is in another zone than the server."""

import pytest
from django.urls import reverse

from licentia.catalog.models import LicenseType
from licentia.clients.models import ClientFieldDefinition, ExtraFieldKind
from licentia.core.audit import Actor
from licentia.keys.services import key_line_add, license_key_generate
from tests.factories import make_client, make_product

pytestmark = pytest.mark.django_db


def date_pages() -> list[tuple[str, list[str]]]:
    """Each page with its date boxes' names."""
    product = make_product(1, (10, LicenseType.USER, 1, False))
    key = license_key_generate(client=make_client(), actor=Actor.system("tests"))
    key_line_add(key=key, product=product, actor=Actor.system("tests"))
    ClientFieldDefinition.objects.create(
        code="contract_date", label_ru="Дата договора", kind=ExtraFieldKind.DATE
    )
    return [
        (
            reverse("admin:keys_licensekey_detail_add_line", args=[key.pk]),
            ["starts_at", "expires_at"],
        ),
        (reverse("admin:coupons_key_line_change", args=[key.pk]), ["expires_at"]),
        (reverse("admin:coupons_coupon_generate"), ["invoice_date", "form-0-expires_on"]),
        (reverse("admin:releases_release_add"), ["released_on"]),
        (reverse("admin:statistics_trials"), ["first", "last"]),
        ("/reports/expiring-subscriptions/", ["date_from", "date_to"]),
        (reverse("admin:clients_client_add"), []),
    ]


def test_every_date_box_of_the_cabinet_is_the_cabinets_own(manager_client) -> None:
    for url, names in date_pages():
        page = manager_client.get(url)
        html = page.content.decode()

        assert page.status_code == 200, url
        for name in names:
            assert f'name="{name}"' in html, (url, name)
        assert "vDateField" not in html, url
        assert "vTimeField" not in html, url
        assert html.count("lc-moment-input") >= max(len(names), 1), url
        assert "core/moments.js" in html, url
