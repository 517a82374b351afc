"""Secrets at rest (the signing key, the SMTP password): AES-GCM under a key derived from
SECRET_KEY with a label per purpose, opened with SECRET_KEY or any of its fallbacks, so the
secret key can be rotated without losing them."""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v1"
_NONCE_BYTES = 12


class UnsealError(RuntimeError):
    """A sealed value that no known secret key opens, or of an unknown format."""


def _key(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def seal(value: bytes, *, purpose: bytes, bound_to: bytes | None = None) -> str:
    """The value encrypted for storage; `bound_to` (authenticated, not stored) must be given
    again to open it."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(settings.SECRET_KEY, purpose)).encrypt(nonce, value, bound_to)
    return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(stored: str, *, purpose: bytes, bound_to: bytes | None = None) -> bytes:
    version, _sep, encoded = stored.partition(":")
    if version != _VERSION:
        raise UnsealError("the stored value has an unknown format")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as error:
        raise UnsealError("the stored value is not base64") from error
    nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    if not sealed:
        raise UnsealError("the stored value is too short")
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        try:
            return AESGCM(_key(secret, purpose)).decrypt(nonce, sealed, bound_to)
        except InvalidTag:
            continue
    raise UnsealError("no known SECRET_KEY opens it")
