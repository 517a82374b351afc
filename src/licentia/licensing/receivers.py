"""How licensing reacts to the apps below it."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.keys.models import LicenseKey
from licentia.keys.signals import key_blocked
from licentia.licensing.models import EndReason, Session


@receiver(key_blocked)
def end_sessions_of_blocked_key(*, key: LicenseKey, moment: datetime, **_: Any) -> None:
    # A blocked key holds no seat: its sessions and bindings end now, not at the sweep.
    Session.objects.filter(key=key, ended_at__isnull=True).update(
        ended_at=moment, end_reason=EndReason.KEY_BLOCKED
    )
