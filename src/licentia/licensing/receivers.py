"""How licensing reacts to the apps below it."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.keys.models import LicenseKey
from licentia.keys.signals import key_blocked, key_open_sessions
from licentia.licensing.models import Session
from licentia.licensing.services.sweep import blocked_sessions_end


@receiver(key_blocked)
def end_sessions_of_blocked_key(*, key: LicenseKey, moment: datetime, **_: Any) -> None:
    # Now, not at the next sweep: the seats are free for nobody, and the monitor says why.
    blocked_sessions_end(sessions=Session.objects.filter(key=key), moment=moment)


@receiver(key_open_sessions)
def count_open_sessions_of_key(*, key: LicenseKey, **_: Any) -> int:
    return Session.objects.filter(key=key, ended_at__isnull=True).count()
