"""Refused captures, kept per key, feature, unit, reason and day (Проблемы)."""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from licentia.core.counters import counter_bump
from licentia.keys.models import LicenseKey
from licentia.licensing.models import Problem
from licentia.licensing.signals import capture_refused
from licentia.licensing.units import Unit


def problem_record(
    *,
    key_number: str,
    key: LicenseKey | None,
    feature_id: int,
    unit: Unit,
    code: int,
    moment: datetime,
) -> None:
    with transaction.atomic():
        counter_bump(
            Problem,
            match={
                "key_number": key_number[:64],
                "feature_id": feature_id,
                "unit": unit.any_name()[:600],
                "code": code,
                "day": timezone.localdate(moment),
            },
            create={
                "key": key,
                "user": unit.user[:200],
                "host": unit.host[:200],
                "database": unit.database[:200],
                "first_at": moment,
                "last_at": moment,
            },
            count=F("count") + 1,
            last_at=moment,
        )
        capture_refused.send(
            sender=Problem,
            key=key,
            key_number=key_number,
            feature_id=feature_id,
            code=code,
            unit=unit,
            moment=moment,
        )
