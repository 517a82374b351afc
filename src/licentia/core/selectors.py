from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licentia.core.models import VendorSettings
from licentia.core.services import vendor_settings_ensure
from licentia.core.signing import load_private_key


def vendor_settings_get() -> VendorSettings:
    return vendor_settings_ensure()


def vendor_signing_key() -> Ed25519PrivateKey:
    current = vendor_settings_get()
    return load_private_key(
        public_key_b64=current.signing_public_key,
        encrypted=current.signing_private_key_encrypted,
    )
