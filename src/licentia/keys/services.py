from django.db import IntegrityError, transaction

from licentia.clients.models import Client
from licentia.clients.services import client_refresh_search_text
from licentia.core import keycodes
from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import LicenseKey

GENERATION_ATTEMPTS = 5


def license_key_generate(*, client: Client, actor: Actor) -> LicenseKey:
    """A new empty key (no products) for the client, numbered with the vendor's prefix."""
    prefix = vendor_settings_get().key_prefix
    for _attempt in range(GENERATION_ATTEMPTS):
        try:
            with transaction.atomic():
                key = LicenseKey.objects.create(number=keycodes.generate_key(prefix), client=client)
                client_refresh_search_text(client=client)
                audit_record(
                    actor=actor, action="license_key.create", instance=key, after=snapshot(key)
                )
                return key
        except IntegrityError:
            # 32**19 numbers make a collision all but impossible; if one happens, draw again.
            continue
    raise RuntimeError("could not draw an unused license key number")
