"""Every page of the cabinet where a manager enters a date has the same box: «15.03.2025» with
an optional time and a calendar button, and none of the admin's calendar inputs, whose script
adds a time-zone note when the manager's computer is in another zone than the server."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.urls import reverse

from licentia.catalog.models import LicenseType
from licentia.clients.models import ClientFieldDefinition, ExtraFieldKind
from licentia.core.audit import Actor, audit_record
from licentia.core.models import AuditEvent
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
        (reverse("admin:core_auditevent_changelist"), ["created_at_from", "created_at_to"]),
        (reverse("admin:licensing_problem_changelist"), ["day_from", "day_to"]),
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


def audit_event_at(moment: datetime, label: str) -> None:
    with transaction.atomic():
        event = audit_record(actor=Actor.system(label), action="client.create")
    AuditEvent.objects.filter(pk=event.pk).update(created_at=moment)


def test_the_audit_log_filters_by_days_and_moments_of_the_vendors_clock(
    manager_client, settings
) -> None:
    settings.TIME_ZONE = "Europe/Moscow"
    audit_event_at(datetime(2025, 3, 14, 20, 30, tzinfo=UTC), "накануне")  # 23:30 in Moscow
    audit_event_at(datetime(2025, 3, 15, 11, 5, tzinfo=UTC), "днём")  # 14:05
    audit_event_at(datetime(2025, 3, 15, 20, 59, 59, tzinfo=UTC), "в полночь")  # 23:59:59
    url = reverse("admin:core_auditevent_changelist")

    def found(**bounds: str) -> set[str]:
        page = manager_client.get(
            url, {f"created_at_{name}": value for name, value in bounds.items()}
        )
        assert page.status_code == 200
        return {event.actor_label for event in page.context["cl"].result_list}

    assert found(**{"from": "15.03.2025", "to": "15.03.2025"}) == {"днём", "в полночь"}
    assert found(**{"from": "15.03.2025 14:00", "to": "15.03.2025 14:10"}) == {"днём"}
    assert found(**{"to": "14.03.2025"}) == {"накануне"}
    refused = manager_client.get(url, {"created_at_from": "15.13.2025"}).content.decode()
    assert "Введите дату в виде 15.03.2025 или дату и время в виде 15.03.2025 14:05." in refused
