"""The reference client of the Licentia application protocol.

A protected application registers a trial, reads its license, captures a seat for a feature
(kept alive by heartbeats while it works), consumes tokens and verifies signed certificates
offline with the vendor's public key::

    from licentia_client import LicentiaClient

    client = LicentiaClient("https://licenses.example.com")
    with client.capture("DEMO-…", feature_id=10, user="Иванов", host="buh-01") as seat:
        ...  # the feature is licensed while the block runs
"""

from licentia_client.certificates import CertificateError, verify_certificate
from licentia_client.client import LicentiaClient, LicentiaError, Seat, machine_fingerprint

__all__ = [
    "CertificateError",
    "LicentiaClient",
    "LicentiaError",
    "Seat",
    "machine_fingerprint",
    "verify_certificate",
]
