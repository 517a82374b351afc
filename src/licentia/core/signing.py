"""The vendor's Ed25519 key pair; the private key is stored encrypted with the SECRET_KEY."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from licentia.core.sealing import UnsealError, seal, unseal

_PURPOSE = b"licentia/signing-key-encryption/v1"


class SigningKeyUnavailableError(RuntimeError):
    """The stored private key cannot be decrypted with SECRET_KEY or its fallbacks."""


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_key_pair() -> tuple[str, str]:
    """A new key pair as (public key in base64, private key encrypted for storage)."""
    private_key = Ed25519PrivateKey.generate()
    public_raw = _raw_public(private_key.public_key())
    private_raw = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    # The public key is bound to the sealed private key, so it cannot be paired with another.
    return base64.b64encode(public_raw).decode(), seal(
        private_raw, purpose=_PURPOSE, bound_to=public_raw
    )


def load_private_key(*, public_key_b64: str, encrypted: str) -> Ed25519PrivateKey:
    try:
        private_raw = unseal(encrypted, purpose=_PURPOSE, bound_to=base64.b64decode(public_key_b64))
    except UnsealError as error:
        raise SigningKeyUnavailableError(
            f"the signing key cannot be decrypted ({error}): SECRET_KEY changed; put the old "
            "key into SECRET_KEY_FALLBACKS"
        ) from error
    return Ed25519PrivateKey.from_private_bytes(private_raw)


def public_key_pem(public_key_b64: str) -> str:
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
