"""How mail reacts to the apps below it."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.core.audit import Actor
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.signals import key_created
from licentia.licensing.signals import capture_refused, trial_registered
from licentia.notifications.services import (
    notify_capture_refused,
    notify_new_key,
    notify_new_trial,
)


@receiver(trial_registered)
def mail_new_trial(*, line: KeyLine, key: LicenseKey, **_: Any) -> None:
    notify_new_trial(line=line, key=key)


@receiver(key_created)
def mail_new_key(*, key: LicenseKey, actor: Actor, **_: Any) -> None:
    notify_new_key(key=key, actor=actor)


@receiver(capture_refused)
def mail_license_problem(
    *, key: LicenseKey | None, feature_id: int, code: int, moment: datetime, **_: Any
) -> None:
    notify_capture_refused(key=key, feature_id=feature_id, code=code, moment=moment)
