"""/api/v1/: the vendor API with every group of calls mounted. A new group is a Router in a
module of this app, added here with `vendor_api.add_router(prefix, router)` (see
licentia.api.vendor for the role checks)."""

from licentia.api import (
    vendor_audit,
    vendor_clients,
    vendor_compat,
    vendor_coupons,
    vendor_keys,
    vendor_me,
    vendor_releases,
)
from licentia.api.vendor import vendor_api

vendor_api.add_router("", vendor_me.router)
vendor_api.add_router("", vendor_compat.router)
vendor_api.add_router("", vendor_clients.router)
vendor_api.add_router("", vendor_keys.router)
vendor_api.add_router("", vendor_coupons.router)
vendor_api.add_router("", vendor_audit.router)
vendor_api.add_router("/releases", vendor_releases.router)

__all__ = ["vendor_api"]
