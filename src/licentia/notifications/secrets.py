"""The SMTP password at rest: AES-GCM under a key derived from SECRET_KEY, as the signing key is
stored (licentia.core.signing), with a derivation label of its own."""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v1"
_KDF_INFO = b"licentia/smtp-password/v1"


class SmtpPasswordUnavailableError(RuntimeError):
    """The stored password cannot be decrypted with SECRET_KEY or its fallbacks."""


def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(
        secret.encode()
    )


def encrypt_password(password: str) -> str:
    if not password:
        return ""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(settings.SECRET_KEY)).encrypt(nonce, password.encode(), None)
    return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt_password(stored: str) -> str:
    if not stored:
        return ""
    version, _sep, encoded = stored.partition(":")
    if version != _VERSION:
        raise SmtpPasswordUnavailableError("the stored SMTP password has an unknown format")
    blob = base64.b64decode(encoded)
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        try:
            return AESGCM(_key(secret)).decrypt(blob[:12], blob[12:], None).decode()
        except InvalidTag:
            continue
    raise SmtpPasswordUnavailableError(
        "the SMTP password cannot be decrypted: SECRET_KEY changed; enter the password again"
    )
