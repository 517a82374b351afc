import functools

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from licentia.core.models import VendorSettings
from licentia.core.process_cache import ProcessCache
from licentia.core.services import vendor_settings_ensure
from licentia.core.signing import load_private_key

_vendor_settings = ProcessCache(vendor_settings_ensure, cleared_by=[VendorSettings])


def vendor_settings_get() -> VendorSettings:
    """The settings as this process last read them (at most PROCESS_CACHE_SECONDS ago): for
    reading only; vendor_settings_update changes them."""
    return _vendor_settings.get()


def vendor_signing_key(current: VendorSettings | None = None) -> Ed25519PrivateKey:
    current = current or vendor_settings_get()
    return _decrypted_key(
        current.signing_public_key,
        current.signing_private_key_encrypted,
        (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS),
    )


@functools.lru_cache(maxsize=4)
def _decrypted_key(
    public_key_b64: str, encrypted: str, secrets: tuple[str, ...]
) -> Ed25519PrivateKey:
    # Decrypting costs a key derivation on every call; cached by the stored form and the
    # secrets, so a new key pair or a changed SECRET_KEY is picked up at once.
    return load_private_key(public_key_b64=public_key_b64, encrypted=encrypted)
