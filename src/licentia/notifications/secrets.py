"""The SMTP password at rest, sealed like the signing key (licentia.core.sealing)."""

from licentia.core.sealing import UnsealError, seal, unseal

_PURPOSE = b"licentia/smtp-password/v1"


class SmtpPasswordUnavailableError(RuntimeError):
    """The stored password cannot be decrypted with SECRET_KEY or its fallbacks."""


def encrypt_password(password: str) -> str:
    return seal(password.encode(), purpose=_PURPOSE) if password else ""


def decrypt_password(stored: str) -> str:
    if not stored:
        return ""
    try:
        return unseal(stored, purpose=_PURPOSE).decode()
    except UnsealError as error:
        raise SmtpPasswordUnavailableError(
            f"the SMTP password cannot be decrypted ({error}): SECRET_KEY changed; enter the "
            "password again"
        ) from error
