"""Offline verification of license certificates."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LICENSE_DOMAIN = b"licentia/license/v1."
SUPPORTED_VERSION = 1


class CertificateError(Exception):
    """The certificate is not to be trusted: forged, expired, for another machine or request."""


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fingerprint_sha256(fingerprint: dict[str, str]) -> str:
    """The same hash the server puts into certificates: sorted keys, compact JSON, UTF-8."""
    canonical = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def verify_certificate(
    certificate: str,
    public_key: str,
    *,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
    fingerprint: dict[str, str] | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The certificate's payload once its signature, time window, fingerprint and nonce hold.

    `public_key` is the vendor's raw Ed25519 key in base64 (GET /api/app/v1/public-key).
    `clock_skew` tolerates a machine clock that differs from the server's."""
    try:
        body_text, signature_text = certificate.split(".")
        body, signature = _unb64url(body_text), _unb64url(signature_text)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    except ValueError as error:
        raise CertificateError("malformed certificate or public key") from error
    try:
        key.verify(signature, LICENSE_DOMAIN + body)
    except InvalidSignature as error:
        raise CertificateError(
            "the signature does not match: the certificate was altered"
        ) from error
    payload: dict[str, Any] = json.loads(body)
    if payload.get("version") != SUPPORTED_VERSION:
        raise CertificateError(f"unsupported certificate version {payload.get('version')!r}")
    moment = now or datetime.now(UTC)
    if _moment(payload["issued_at"]) > moment + clock_skew:
        raise CertificateError("the certificate is issued in the future: check the clock")
    if _moment(payload["valid_until"]) + clock_skew < moment:
        raise CertificateError("the certificate has expired: connect to the license server")
    if fingerprint is not None and payload.get("fingerprint_sha256") != fingerprint_sha256(
        fingerprint
    ):
        raise CertificateError("the certificate was issued for another machine")
    if nonce is not None and payload.get("nonce") != nonce:
        raise CertificateError("the certificate answers another request (nonce differs)")
    return payload
