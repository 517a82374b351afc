"""What the cabinet's pages of the lower apps show from the apps above them."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.keys.selectors import KeyLicense
from licentia.keys.signals import key_usage_asked
from licentia.licensing.selectors import UsageRow, key_usage


@receiver(key_usage_asked)
def seats_and_tokens_in_use(
    *, license_: KeyLicense, moment: datetime, **kwargs: Any
) -> list[UsageRow]:
    return key_usage(license_, moment)
