import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from licentia.core.audit import Actor
from licentia.core.models import AuditEvent, VendorSettings
from licentia.core.selectors import vendor_settings_get, vendor_signing_key
from licentia.core.services import vendor_settings_update
from licentia.core.signing import SigningKeyUnavailableError

pytestmark = pytest.mark.django_db

VALID_FORM = {
    "key_prefix": "ACME",
    "lease_seconds": 300,
    "offline_grace_days": 14,
    "first_reminder_days": 20,
    "second_reminder_days": 2,
    "session_retention_days": 90,
    "client_resets_per_30_days": 3,
    "api_calls_per_minute": 120,
    "backup_keep": 7,
}


def test_the_settings_exist_after_migrate_with_a_working_key_pair() -> None:
    current = vendor_settings_get()
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(current.signing_public_key))

    signature = vendor_signing_key().sign(b"licentia/test.payload")

    public_key.verify(signature, b"licentia/test.payload")
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, b"licentia/test.other")


def test_the_private_key_is_not_stored_in_clear() -> None:
    current = vendor_settings_get()
    raw = vendor_signing_key().private_bytes_raw()

    stored = current.signing_private_key_encrypted
    assert stored.startswith("v1:")
    assert base64.b64encode(raw).decode() not in stored
    assert raw.hex() not in stored
    assert raw not in base64.b64decode(stored[3:])


def test_the_private_key_is_unreadable_with_another_secret_key() -> None:
    with (
        override_settings(SECRET_KEY="another-key", SECRET_KEY_FALLBACKS=[]),
        pytest.raises(SigningKeyUnavailableError, match="SECRET_KEY_FALLBACKS"),
    ):
        vendor_signing_key()


def test_the_private_key_survives_a_secret_key_rotation_through_fallbacks(settings) -> None:
    before = vendor_signing_key().private_bytes_raw()
    old_secret = settings.SECRET_KEY

    with override_settings(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=[old_secret]):
        assert vendor_signing_key().private_bytes_raw() == before


def test_an_update_is_audited_with_before_and_after(full_access_user) -> None:
    vendor_settings_update(actor=Actor.staff(full_access_user), key_prefix="ACME")

    event = AuditEvent.objects.get(action="vendor_settings.update")
    assert event.actor_user == full_access_user
    assert event.before["key_prefix"] == "DEMO"
    assert event.after["key_prefix"] == "ACME"
    assert "signing_private_key_encrypted" not in event.after


def test_an_invalid_update_changes_nothing_and_logs_nothing(full_access_user) -> None:
    with pytest.raises(ValidationError) as error:
        vendor_settings_update(
            actor=Actor.staff(full_access_user), key_prefix="acme", first_reminder_days=1
        )

    assert "key_prefix" in error.value.message_dict
    assert VendorSettings.objects.get().key_prefix == "DEMO"
    assert not AuditEvent.objects.filter(action="vendor_settings.update").exists()


def test_the_audit_event_is_rolled_back_with_its_change(full_access_user) -> None:
    class Abort(Exception):
        pass

    def change_then_fail() -> None:
        with transaction.atomic():
            vendor_settings_update(actor=Actor.staff(full_access_user), key_prefix="ACME")
            raise Abort

    with pytest.raises(Abort):
        change_then_fail()

    assert VendorSettings.objects.get().key_prefix == "DEMO"
    assert not AuditEvent.objects.filter(action="vendor_settings.update").exists()


def test_a_manager_changes_the_settings_in_the_cabinet(manager_client, full_access_user) -> None:
    url = reverse("admin:core_vendorsettings_change", args=[1])

    response = manager_client.post(url, VALID_FORM, follow=True)

    assert response.status_code == 200
    current = VendorSettings.objects.get()
    assert (current.key_prefix, current.lease_seconds, current.offline_grace_days) == (
        "ACME",
        300,
        14,
    )
    assert (
        current.session_retention_days,
        current.client_resets_per_30_days,
        current.api_calls_per_minute,
    ) == (90, 3, 120)
    event = AuditEvent.objects.get(action="vendor_settings.update")
    assert event.actor_label == full_access_user.username
    assert event.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"key_prefix": "AB1"}, "key_prefix", "четыре заглавные латинские буквы"),
        ({"lease_seconds": 10}, "lease_seconds", "60"),
        ({"first_reminder_days": 2, "second_reminder_days": 3}, None, ""),
    ],
)
def test_the_cabinet_shows_field_errors_and_keeps_the_settings(
    manager_client, changes, field, message
) -> None:
    url = reverse("admin:core_vendorsettings_change", args=[1])

    response = manager_client.post(url, {**VALID_FORM, **changes})

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert not form.is_valid()
    errors = form.errors[field] if field else form.non_field_errors()
    assert errors
    assert message in " ".join(errors)
    assert VendorSettings.objects.get().key_prefix == "DEMO"


def test_the_settings_list_opens_the_single_card(manager_client) -> None:
    response = manager_client.get(reverse("admin:core_vendorsettings_changelist"))

    assert response.status_code == 302
    assert response.url == reverse("admin:core_vendorsettings_change", args=[1])


def test_the_public_key_is_shown_in_the_settings(manager_client) -> None:
    response = manager_client.get(reverse("admin:core_vendorsettings_change", args=[1]))

    assert vendor_settings_get().signing_public_key in response.content.decode()
    assert "BEGIN PUBLIC KEY" in response.content.decode()


@pytest.mark.parametrize("stored", ["v1:not base64!", "v1:", "v1:AAAA"])
def test_a_damaged_stored_key_is_said_to_be_unreadable(stored: str) -> None:
    VendorSettings.objects.filter(pk=VendorSettings.SINGLETON_PK).update(
        signing_private_key_encrypted=stored
    )

    with pytest.raises(SigningKeyUnavailableError, match="SECRET_KEY_FALLBACKS"):
        vendor_signing_key()
