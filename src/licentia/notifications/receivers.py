"""How mail reacts to the apps below it."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.core.audit import Actor
from licentia.core.signals import release_mail_due
from licentia.coupons.models import Activation
from licentia.coupons.signals import coupon_activated
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import lines_with_products
from licentia.keys.signals import key_created
from licentia.licensing.signals import capture_refused, trial_registered
from licentia.notifications.services import (
    notify_capture_refused,
    notify_coupon_activated,
    notify_new_key,
    notify_new_release,
    notify_new_trial,
)


@receiver(trial_registered)
def mail_new_trial(*, line: KeyLine, key: LicenseKey, **_: Any) -> None:
    notify_new_trial(line=line, key=key)


@receiver(coupon_activated)
def mail_coupon_activated(*, activation: Activation, **_: Any) -> None:
    # The lines the coupon added or changed that the key holds now (a trial it ended is not).
    changed = [row["line"] for row in activation.changes if row["after"] is not None]
    lines = KeyLine.objects.filter(pk__in=changed, state=LineState.ACTIVE).order_by("id")
    notify_coupon_activated(
        key=activation.key, coupon=activation.coupon.code, lines=lines_with_products(list(lines))
    )


@receiver(key_created)
def mail_new_key(*, key: LicenseKey, actor: Actor, **_: Any) -> None:
    notify_new_key(key=key, actor=actor)


@receiver(capture_refused)
def mail_license_problem(
    *, key: LicenseKey | None, feature_id: int, code: int, moment: datetime, **_: Any
) -> None:
    notify_capture_refused(key=key, feature_id=feature_id, code=code, moment=moment)


@receiver(release_mail_due)
def mail_new_release(*, key: LicenseKey, context: dict[str, Any], **_: Any) -> None:
    notify_new_release(key=key, context=context)
