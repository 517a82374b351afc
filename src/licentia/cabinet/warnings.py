"""A warning the cabinet shows in its header on every page (unfold's ENVIRONMENT label)."""

from django.http import HttpRequest
from django.utils.translation import gettext as _

from licentia.core.models import VendorSettings
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import LicenseKey

DEMO_PREFIX = VendorSettings._meta.get_field("key_prefix").default


def header_warning(request: HttpRequest) -> list[str] | None:
    """While the key prefix is still the demo one and no key was issued it can still be
    changed freely: once keys are out, every one of them carries it."""
    if not request.user.is_authenticated:
        return None
    if vendor_settings_get().key_prefix != DEMO_PREFIX or LicenseKey.objects.exists():
        return None
    return [_("Key prefix is still DEMO: set yours in the vendor settings"), "warning"]
