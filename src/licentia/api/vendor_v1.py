"""/api/v1/: the vendor API with every group of calls mounted. A new group is a Router in a
module of this app, added here with `vendor_api.add_router(prefix, router)` (see
licentia.api.vendor for the role checks)."""

from licentia.api import vendor_compat, vendor_me
from licentia.api.vendor import vendor_api

vendor_api.add_router("", vendor_me.router)
vendor_api.add_router("", vendor_compat.router)

__all__ = ["vendor_api"]
