"""Vendor settings (the singleton, its signing key) and the first administrator."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from licentia.core.audit import Actor, audit_record, audited_change, snapshot
from licentia.core.models import User, VendorSettings
from licentia.core.roles import FULL_ACCESS
from licentia.core.signing import generate_key_pair

VENDOR_SETTINGS_EDITABLE = (
    "key_prefix",
    "lease_seconds",
    "offline_grace_days",
    "first_reminder_days",
    "second_reminder_days",
    "session_retention_days",
    "client_resets_per_30_days",
    "api_calls_per_minute",
    "backup_daily",
    "backup_keep",
)


def vendor_settings_ensure() -> VendorSettings:
    """The singleton, created with a fresh signing key pair the first time it is asked for."""
    found = VendorSettings.objects.filter(pk=VendorSettings.SINGLETON_PK).first()
    if found is not None:
        return found
    public_key, private_key_encrypted = generate_key_pair()
    try:
        with transaction.atomic():
            created = VendorSettings.objects.create(
                pk=VendorSettings.SINGLETON_PK,
                signing_public_key=public_key,
                signing_private_key_encrypted=private_key_encrypted,
            )
            # Created by the system, outside any request: recorded in the cabinet's language.
            with translation.override(settings.LANGUAGE_CODE):
                audit_record(
                    actor=Actor.system(),
                    action="vendor_settings.create",
                    instance=created,
                    after=snapshot(created),
                )
            return created
    except IntegrityError:
        # Another process created it first; theirs is the one.
        return VendorSettings.objects.get(pk=VendorSettings.SINGLETON_PK)


def vendor_settings_update(*, actor: Actor, **changes: Any) -> VendorSettings:
    unknown = changes.keys() - set(VENDOR_SETTINGS_EDITABLE)
    if unknown:
        raise TypeError(f"not editable vendor settings: {', '.join(sorted(unknown))}")
    vendor_settings_ensure()
    with audited_change(
        VendorSettings, VendorSettings.SINGLETON_PK, actor=actor, action="vendor_settings.update"
    ) as current:
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
    return current


def staff_user_create_admin(*, username: str, email: str, password: str) -> User:
    """A superuser in the Full access role, for the first sign-in and for emergencies."""
    username = username.strip()
    if not username:
        raise ValidationError(_("The user name is required."))
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("A user named %(name)s exists already.") % {"name": username})
        user = User.objects.create_superuser(username=username, email=email, password=password)
        user.groups.add(Group.objects.get(name=FULL_ACCESS))
        audit_record(
            actor=Actor.system("command line"),
            action="user.create",
            instance=user,
            after=snapshot(user),
        )
    return user
