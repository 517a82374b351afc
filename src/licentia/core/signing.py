"""The vendor's Ed25519 key pair; the private key is stored encrypted with the SECRET_KEY."""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_ENCRYPTION_VERSION = "v1"
_KDF_INFO = b"licentia/signing-key-encryption/v1"


class SigningKeyUnavailableError(RuntimeError):
    """The stored private key cannot be decrypted with SECRET_KEY or its fallbacks."""


def _wrapping_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(
        secret.encode()
    )


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
    nonce = os.urandom(12)
    # The public key is the associated data, so a private key cannot be paired with another one.
    sealed = AESGCM(_wrapping_key(settings.SECRET_KEY)).encrypt(nonce, private_raw, public_raw)
    encoded = base64.b64encode(nonce + sealed).decode()
    return base64.b64encode(public_raw).decode(), f"{_ENCRYPTION_VERSION}:{encoded}"


def load_private_key(*, public_key_b64: str, encrypted: str) -> Ed25519PrivateKey:
    version, _sep, encoded = encrypted.partition(":")
    if version != _ENCRYPTION_VERSION:
        raise SigningKeyUnavailableError("the stored signing key has an unknown format")
    blob = base64.b64decode(encoded)
    nonce, sealed = blob[:12], blob[12:]
    public_raw = base64.b64decode(public_key_b64)
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        try:
            private_raw = AESGCM(_wrapping_key(secret)).decrypt(nonce, sealed, public_raw)
        except InvalidTag:
            continue
        return Ed25519PrivateKey.from_private_bytes(private_raw)
    raise SigningKeyUnavailableError(
        "the signing key cannot be decrypted: SECRET_KEY changed; put the old key into "
        "SECRET_KEY_FALLBACKS"
    )


def public_key_pem(public_key_b64: str) -> str:
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
