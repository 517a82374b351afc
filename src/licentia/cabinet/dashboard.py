from typing import Any

from django.http import HttpRequest

from licentia.core.selectors import vendor_settings_get
from licentia.core.signing import public_key_pem


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    vendor_settings = vendor_settings_get()
    context["vendor_settings"] = vendor_settings
    context["public_key_pem"] = public_key_pem(vendor_settings.signing_public_key)
    return context
