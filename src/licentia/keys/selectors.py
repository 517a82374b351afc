"""What a key holds, how much of each feature, and how its lines and the key read to people."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from licentia.catalog.models import LicenseType, TrialCounting
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine, LicenseKey, LineState

CapacityKey = tuple[int, str]  # (feature id, license type)


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def line_is_live(line: KeyLine, *, at: datetime | None = None) -> bool:
    """Active, started, not expired, and (a usage-counted trial) not used up."""
    moment = _now(at)
    if line.state != LineState.ACTIVE or line.starts_at > moment:
        return False
    if line.expires_at is not None and line.expires_at <= moment:
        return False
    product = line.product
    if not line.is_trial or product.trial_counting != TrialCounting.USAGE:
        return True
    # The day that used the last trial day up is still a day of use.
    return line.used_days < product.trial_days or (
        line.used_days == product.trial_days and line.last_used_on == timezone.localdate(moment)
    )


def key_lines(key: LicenseKey) -> QuerySet[KeyLine]:
    return key.lines.select_related("product").prefetch_related("product__lines__feature")


def line_features(line: KeyLine) -> list[str]:
    """The line's features as the card shows them: «2 USER Коты (54)»."""
    texts = []
    for feature_line in line.product.lines.all():
        multiplier = line.multiplier if feature_line.multiplier_allowed else 1
        texts.append(
            f"{feature_line.count * multiplier} {feature_line.license_type} "
            f"{feature_line.feature.name} ({feature_line.feature_id})"
        )
    return texts


def key_capacity(key: LicenseKey, *, at: datetime | None = None) -> dict[CapacityKey, int]:
    """Per (feature id, license type): the sum over the key's live lines of count × multiplier
    (the multiplier only where the product's feature line allows it). Features of all products
    in the key are pooled. A blocked key has every capacity zero."""
    capacity: dict[CapacityKey, int] = defaultdict(int)
    for line in key_lines(key):
        live = line_is_live(line, at=at)
        for feature_line in line.product.lines.all():
            pool = (feature_line.feature_id, feature_line.license_type)
            multiplier = line.multiplier if feature_line.multiplier_allowed else 1
            capacity[pool] += feature_line.count * multiplier if live and not key.blocked else 0
    return dict(capacity)


@dataclass(frozen=True)
class SummaryRow:
    feature_id: int
    feature_name: str
    license_type: str
    total: int


def key_summary(key: LicenseKey, *, at: datetime | None = None) -> list[SummaryRow]:
    """The license summary (Сводка по лицензиям) of the key's card."""
    names = {
        feature_line.feature_id: feature_line.feature.name
        for line in key_lines(key)
        for feature_line in line.product.lines.all()
    }
    order = list(LicenseType.values)
    return [
        SummaryRow(
            feature_id=feature_id, feature_name=names[feature_id], license_type=kind, total=total
        )
        for (feature_id, kind), total in sorted(
            key_capacity(key, at=at).items(), key=lambda item: (item[0][0], order.index(item[0][1]))
        )
    ]


def _day(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d")


def line_sentence(line: KeyLine, *, at: datetime | None = None) -> str:
    """How a line reads on the card: «Лицензия активна до 2024-12-31», «Истекает через 5 дней»,
    «Триал закончился 2024-10-09», «Лицензия истекла», «Бессрочная»."""
    moment = _now(at)
    if line.state != LineState.ACTIVE:
        ended = line.ended_at or moment
        return _("%(state)s %(date)s") % {
            "state": line.get_state_display().capitalize(),
            "date": _day(ended),
        }
    if line.starts_at > moment:
        return _("Starts on %(date)s") % {
            "date": date_format(timezone.localtime(line.starts_at), "Y-m-d")
        }
    if not line_is_live(line, at=moment):
        if line.is_trial:
            end = line.expires_at or moment
            return _("Trial ended %(date)s") % {
                "date": date_format(timezone.localtime(end), "Y-m-d")
            }
        return _("License expired")
    if line.expires_at is None:
        return _("Perpetual")
    days_left = (timezone.localdate(line.expires_at) - timezone.localdate(moment)).days
    if days_left <= vendor_settings_get().first_reminder_days:
        return ngettext("Expires in %(days)d day", "Expires in %(days)d days", days_left) % {
            "days": days_left
        }
    if line.is_trial:
        return _("Trial active until %(date)s") % {"date": _day(line.expires_at)}
    return _("License active until %(date)s") % {"date": _day(line.expires_at)}


class KeyState:
    BLOCKED = "blocked"
    EMPTY = "empty"
    TRIAL = "trial"
    EXPIRING = "expiring"
    ACTIVE = "active"
    EXPIRED = "expired"

    LABELS = {
        BLOCKED: gettext_lazy("blocked"),
        EMPTY: gettext_lazy("empty"),
        TRIAL: gettext_lazy("trial"),
        EXPIRING: gettext_lazy("expiring"),
        ACTIVE: gettext_lazy("active"),
        EXPIRED: gettext_lazy("expired"),
    }


def key_state(key: LicenseKey, *, at: datetime | None = None) -> str:
    if key.blocked:
        return KeyState.BLOCKED
    lines = list(key_lines(key))
    if not lines:
        return KeyState.EMPTY
    moment = _now(at)
    live = [line for line in lines if line_is_live(line, at=moment)]
    if not live:
        return KeyState.EXPIRED
    if all(line.is_trial for line in live):
        return KeyState.TRIAL
    horizon = moment + timedelta(days=vendor_settings_get().first_reminder_days)
    if all(line.expires_at is not None and line.expires_at <= horizon for line in live):
        return KeyState.EXPIRING
    return KeyState.ACTIVE
