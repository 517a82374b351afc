"""Signed license certificates: what lets the application work offline for a while."""

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from licentia.core.models import VendorSettings
from licentia.core.selectors import vendor_signing_key
from licentia.keys.selectors import KeyLicense

# The format is the reference client's: what it verifies is what the server signs.
from licentia_client.certificates import LICENSE_DOMAIN, SUPPORTED_VERSION, fingerprint_sha256


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _timestamp(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def certificate_payload(
    license_: KeyLicense,
    *,
    moment: datetime,
    vendor: VendorSettings,
    fingerprint: dict[str, str] | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    grace_end = moment + timedelta(days=vendor.offline_grace_days)
    features = []
    ends: list[datetime] = []
    for feature_id in sorted(license_.pools):
        for license_type, pool in sorted(license_.pools[feature_id].items()):
            until = pool.valid_until
            features.append(
                {
                    "id": feature_id,
                    "type": license_type,
                    "total": pool.capacity,
                    "expires_at": _timestamp(until),
                }
            )
            ends.append(until or grace_end)
    # Never past the end of the licensed lines; with nothing licensed, valid only now.
    valid_until = min(grace_end, max(ends, default=moment))
    payload: dict[str, Any] = {
        "version": SUPPORTED_VERSION,
        "key": license_.key.number,
        "company": license_.key.client.company,
        "issued_at": _timestamp(moment),
        "valid_until": _timestamp(valid_until),
        "features": features,
    }
    if fingerprint:
        payload["fingerprint_sha256"] = fingerprint_sha256(fingerprint)
    if nonce:
        payload["nonce"] = nonce
    return payload


def certificate_sign(payload: dict[str, Any], *, vendor: VendorSettings) -> str:
    """base64url(payload) + "." + base64url(Ed25519 over LICENSE_DOMAIN + payload)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    signature = vendor_signing_key(vendor).sign(LICENSE_DOMAIN + body)
    return f"{_b64url(body)}.{_b64url(signature)}"


def certificate_issue(
    license_: KeyLicense,
    *,
    moment: datetime,
    vendor: VendorSettings,
    fingerprint: dict[str, str] | None = None,
    nonce: str | None = None,
) -> str:
    payload = certificate_payload(
        license_, moment=moment, vendor=vendor, fingerprint=fingerprint, nonce=nonce
    )
    return certificate_sign(payload, vendor=vendor)
