"""What a key holds, how much of each feature, and how its lines and the key read to people."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from licentia.catalog.models import ProductFeature, TrialCounting
from licentia.catalog.selectors import catalog_products
from licentia.core import keycodes
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
    allowed = product.trial_days + line.trial_days_added
    # The day that used the last trial day up is still a day of use.
    return line.used_days < allowed or (
        line.used_days == allowed and line.last_used_on == timezone.localdate(moment)
    )


def key_lines(key: LicenseKey) -> list[KeyLine]:
    """The key's lines, each with its product and the product's feature lines and features.
    (The protocol's hot path reads them with the key, in licensing.queries.)"""
    return lines_with_products(list(KeyLine.objects.filter(key=key).order_by("id")))


def lines_with_products(lines: list[KeyLine]) -> list[KeyLine]:
    """The lines, each given its product from the catalog (with feature lines and features)."""
    products = catalog_products()
    if any(line.product_id not in products for line in lines):
        # A product made by another process since this one read the catalog.
        products = catalog_products(fresh=True)
    for line in lines:
        line.product = products[line.product_id]
    return lines


def seats_of(line: KeyLine, feature_line: ProductFeature) -> int:
    """How many seats (or tokens) the line gives of the feature line: the count, times the
    line's multiplier where the product allows one."""
    return feature_line.count * (line.multiplier if feature_line.multiplier_allowed else 1)


def line_features(line: KeyLine) -> list[str]:
    """The line's features as the card shows them: «2 USER Коты (54)»."""
    return [
        f"{seats_of(line, feature_line)} {feature_line.license_type} "
        f"{feature_line.feature.name} ({feature_line.feature_id})"
        for feature_line in line.product.lines.all()
    ]


@dataclass
class Pool:
    """The seats (or tokens) of one license type a key has for a feature, summed over the
    key's live lines."""

    license_type: str
    binding: str
    capacity: int = 0
    idle_limits: list[int | None] = field(default_factory=list)
    expiries: list[datetime | None] = field(default_factory=list)

    def add(self, *, count: int, idle_limit_days: int | None, expires_at: datetime | None) -> None:
        self.capacity += count
        self.idle_limits.append(idle_limit_days)
        self.expiries.append(expires_at)

    @property
    def idle_limit_days(self) -> int | None:
        """Pooled lines with different idle limits: the most generous one holds."""
        limits = [limit for limit in self.idle_limits if limit is not None]
        return max(limits) if limits and len(limits) == len(self.idle_limits) else None

    @property
    def valid_until(self) -> datetime | None:
        """The end of the latest line; None while a perpetual line holds the pool."""
        ends = [end for end in self.expiries if end is not None]
        return max(ends) if ends and len(ends) == len(self.expiries) else None


@dataclass
class KeyLicense:
    """What a key licenses at a moment: its live lines and the pools of every feature."""

    key: LicenseKey
    lines: list[KeyLine]
    live_lines: list[KeyLine]
    pools: dict[int, dict[str, Pool]]
    feature_names: dict[int, str]  # every feature of every line, live or not

    def pool(self, feature_id: int, license_type: str) -> Pool | None:
        return self.pools.get(feature_id, {}).get(license_type)

    def features_ever_held(self) -> set[int]:
        return set(self.feature_names)


def key_license(
    key: LicenseKey, moment: datetime, *, lines: list[KeyLine] | None = None
) -> KeyLicense:
    """What the key licenses at the moment; `lines` when the caller read them already."""
    lines = lines_with_products(lines) if lines is not None else key_lines(key)
    live = [line for line in lines if line_is_live(line, at=moment)] if not key.blocked else []
    pools: dict[int, dict[str, Pool]] = defaultdict(dict)
    names: dict[int, str] = {}
    for line in lines:
        for feature_line in line.product.lines.all():
            names[feature_line.feature_id] = feature_line.feature.name
    for line in live:
        for feature_line in line.product.lines.all():
            pool = pools[feature_line.feature_id].setdefault(
                feature_line.license_type,
                Pool(
                    license_type=feature_line.license_type,
                    binding=feature_line.effective_binding,
                ),
            )
            pool.add(
                count=seats_of(line, feature_line),
                idle_limit_days=feature_line.idle_limit_days,
                expires_at=line.expires_at,
            )
    return KeyLicense(key=key, lines=lines, live_lines=live, pools=dict(pools), feature_names=names)


def key_capacity(key: LicenseKey, *, at: datetime | None = None) -> dict[CapacityKey, int]:
    """Per (feature id, license type) of every line the key ever held: the sum over its live
    lines of count × multiplier (the multiplier only where the product's feature line allows
    it); 0 where no live line gives it. A blocked key has every capacity zero."""
    license_ = key_license(key, _now(at))
    return {
        (feature_line.feature_id, feature_line.license_type): (
            pool.capacity
            if (pool := license_.pool(feature_line.feature_id, feature_line.license_type))
            else 0
        )
        for line in license_.lines
        for feature_line in line.product.lines.all()
    }


def _day(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def short_day(moment: datetime) -> str:
    """The day of a moment in the vendor's time zone, as dates are written: 15.03.2025."""
    return _day(moment)


class LineStatus(models.TextChoices):
    """A line's state at a moment, as the protocol names it; an ended line is named by the
    state it ended in (LineState)."""

    ACTIVE = "active", gettext_lazy("active")
    PENDING = "pending", gettext_lazy("pending")
    EXPIRED = "expired", gettext_lazy("expired")


def line_status(line: KeyLine, *, at: datetime | None = None) -> str:
    """LineStatus, or the LineState the line ended in."""
    moment = _now(at)
    if line.state != LineState.ACTIVE:
        return line.state
    if line.starts_at > moment:
        return LineStatus.PENDING
    return LineStatus.ACTIVE if line_is_live(line, at=moment) else LineStatus.EXPIRED


def line_sentence(line: KeyLine, *, at: datetime | None = None) -> str:
    """How a line reads on the card: «Лицензия активна до 2024-12-31», «Истекает через 5 дней»,
    «Триал закончился 2024-10-09», «Лицензия истекла», «Бессрочная»."""
    moment = _now(at)
    status = line_status(line, at=moment)
    if status not in LineStatus:
        ended = line.ended_at or moment
        return _("%(state)s %(date)s") % {
            "state": line.get_state_display().capitalize(),
            "date": _day(ended),
        }
    if status == LineStatus.PENDING:
        return _("Starts on %(date)s") % {"date": _day(line.starts_at)}
    if status == LineStatus.EXPIRED:
        if line.is_trial:
            return _("Trial ended %(date)s") % {"date": _day(line.expires_at or moment)}
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


def line_term(line: KeyLine, *, at: datetime | None = None) -> str:
    """A line's term in a few words, for a chip in a list: «до 15.03.2025», «бессрочно»,
    «истёк 01.02.2025», «с 01.04.2025»."""
    moment = _now(at)
    status = line_status(line, at=moment)
    if status not in LineStatus:
        return str(line.get_state_display())
    if status == LineStatus.PENDING:
        return _("from %(date)s") % {"date": _day(line.starts_at)}
    if status == LineStatus.EXPIRED:
        return _("expired %(date)s") % {"date": _day(line.expires_at or moment)}
    if line.expires_at is None:
        return _("perpetual")
    return _("until %(date)s") % {"date": _day(line.expires_at)}


class KeyState(models.TextChoices):
    BLOCKED = "blocked", gettext_lazy("blocked")
    EMPTY = "empty", gettext_lazy("empty")
    TRIAL = "trial", gettext_lazy("trial")
    EXPIRING = "expiring", gettext_lazy("expiring")
    ACTIVE = "active", gettext_lazy("active")
    EXPIRED = "expired", gettext_lazy("expired")


def key_state(
    key: LicenseKey, *, at: datetime | None = None, lines: list[KeyLine] | None = None
) -> str:
    """The key's state at the moment; `lines` (with their products) when the caller read them
    already, as a list of keys does for all of them at once."""
    if key.blocked:
        return KeyState.BLOCKED
    if lines is None:
        lines = key_lines(key)
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


def live_line_condition(moment: datetime, *, prefix: str = "") -> models.Q:
    """line_is_live as a database condition on KeyLine (`prefix`: the path to the line, such
    as "lines__"), so that a list of keys filters by state without reading every line."""

    def field(name: str) -> str:
        return prefix + name

    allowed = models.F(field("product__trial_days")) + models.F(field("trial_days_added"))
    trial_in_force = (
        models.Q(**{field("is_trial"): False})
        | ~models.Q(**{field("product__trial_counting"): TrialCounting.USAGE})
        | models.Q(**{field("used_days__lt"): allowed})
        | models.Q(
            **{field("used_days"): allowed, field("last_used_on"): timezone.localdate(moment)}
        )
    )
    return (
        models.Q(**{field("state"): LineState.ACTIVE, field("starts_at__lte"): moment})
        & (
            models.Q(**{field("expires_at__isnull"): True})
            | models.Q(**{field("expires_at__gt"): moment})
        )
        & trial_in_force
    )


def keys_in_state(
    keys: models.QuerySet[LicenseKey], state: str, *, at: datetime | None = None
) -> models.QuerySet[LicenseKey]:
    """The keys whose key_state at the moment is `state`, told by the database in one query."""
    moment = _now(at)
    if state == KeyState.BLOCKED:
        return keys.filter(blocked=True)
    lines = KeyLine.objects.filter(key=models.OuterRef("pk"))
    live = lines.filter(live_line_condition(moment))
    horizon = moment + timedelta(days=vendor_settings_get().first_reminder_days)
    unblocked = keys.filter(blocked=False)
    if state == KeyState.EMPTY:
        return unblocked.filter(~models.Exists(lines))
    if state == KeyState.EXPIRED:
        return unblocked.filter(models.Exists(lines), ~models.Exists(live))
    if state == KeyState.TRIAL:
        return unblocked.filter(models.Exists(live), ~models.Exists(live.filter(is_trial=False)))
    bought = unblocked.filter(models.Exists(live.filter(is_trial=False)))
    lasting = models.Exists(
        live.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=horizon))
    )
    if state == KeyState.EXPIRING:
        return bought.filter(~lasting)
    if state == KeyState.ACTIVE:
        return bought.filter(lasting)
    return keys.none()


def lines_ending(
    *,
    start: datetime,
    end: datetime,
    trials: bool,
    manager_id: int | None = None,
    distributor_id: int | None = None,
) -> models.QuerySet[KeyLine]:
    """Active lines whose expiry falls in [start, end), soonest first: subscriptions to renew
    (the vendor API's subscriptions/expiring and the cabinet's work list). Trials only when
    `trials`."""
    lines = KeyLine.objects.filter(
        state=LineState.ACTIVE, expires_at__gte=start, expires_at__lt=end
    ).select_related("product", "key__client__manager", "key__client__distributor")
    if not trials:
        lines = lines.filter(is_trial=False)
    if manager_id is not None:
        lines = lines.filter(key__client__manager_id=manager_id)
    if distributor_id is not None:
        lines = lines.filter(key__client__distributor_id=distributor_id)
    return lines.order_by("expires_at", "id")


def legacy_key_find(typed: str) -> str | None:
    """The stored number of an imported key that keeps its legacy number, as typed; None when
    the typed text is no such number."""
    number = keycodes.legacy_key_number(typed)
    if number is None:
        return None
    return LicenseKey.objects.filter(number=number).values_list("number", flat=True).first()
