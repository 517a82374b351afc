"""Reads of the licensing protocol: pools of a feature in a key, seats taken, token balances."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum

from licentia.catalog.models import Binding, LicenseType
from licentia.core import keycodes
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import key_lines, line_is_live
from licentia.licensing.models import Session, TokenConsumption
from licentia.licensing.refusals import Code, Refusal

SEAT_TYPES = [LicenseType.USER, LicenseType.HOST, LicenseType.DATABASE, LicenseType.PROCESS]


def key_find(number: str) -> LicenseKey:
    """The key for a number typed in any formatting; refuses 2026 when malformed, 2009 when
    unknown."""
    parsed = keycodes.parse_code(number, prefix_length=keycodes.PREFIX_LENGTH)
    if parsed is None:
        raise Refusal(Code.MALFORMED_KEY)
    key = LicenseKey.objects.filter(number=keycodes.format_code(*parsed)).first()
    if key is None:
        raise Refusal(Code.UNKNOWN_KEY)
    return key


def seat_held(moment: datetime) -> Q:
    """Open sessions that hold their seat at the moment: counted from the lease and the idle
    limit directly, so a seat is free the instant its lease ends, swept or not."""
    floating = Q(binding=Binding.FLOATING, lease_expires_at__gt=moment)
    bound = Q(binding=Binding.BOUND) & (Q(bound_until__isnull=True) | Q(bound_until__gt=moment))
    return Q(ended_at__isnull=True) & (floating | bound)


def sessions_holding(key: LicenseKey, moment: datetime) -> QuerySet[Session]:
    return Session.objects.filter(key=key).filter(seat_held(moment))


def seats_taken(key: LicenseKey, moment: datetime) -> dict[tuple[int, str], int]:
    """Per (feature id, license type): seats held now."""
    rows = (
        sessions_holding(key, moment)
        .values("feature_id", "license_type")
        .annotate(taken=Count("id"))
        .order_by()
    )
    return {(row["feature_id"], row["license_type"]): row["taken"] for row in rows}


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
    feature_names: dict[int, str]

    def features_ever_held(self) -> set[int]:
        return {
            feature_line.feature_id
            for line in self.lines
            for feature_line in line.product.lines.all()
        }


def key_license(key: LicenseKey, moment: datetime) -> KeyLicense:
    lines = list(key_lines(key))
    live = [line for line in lines if line_is_live(line, at=moment)] if not key.blocked else []
    pools: dict[int, dict[str, Pool]] = defaultdict(dict)
    names: dict[int, str] = {}
    for line in lines:
        for feature_line in line.product.lines.all():
            names[feature_line.feature_id] = feature_line.feature.name
    for line in live:
        for feature_line in line.product.lines.all():
            multiplier = line.multiplier if feature_line.multiplier_allowed else 1
            pool = pools[feature_line.feature_id].setdefault(
                feature_line.license_type,
                Pool(
                    license_type=feature_line.license_type,
                    binding=feature_line.effective_binding,
                ),
            )
            pool.add(
                count=feature_line.count * multiplier,
                idle_limit_days=feature_line.idle_limit_days,
                expires_at=line.expires_at,
            )
    return KeyLicense(key=key, lines=lines, live_lines=live, pools=dict(pools), feature_names=names)


def tokens_consumed(key: LicenseKey) -> dict[int, int]:
    rows = (
        TokenConsumption.objects.filter(key=key)
        .values("feature_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["feature_id"]: row["total"] for row in rows}


@dataclass(frozen=True)
class UsageRow:
    feature_id: int
    feature_name: str
    license_type: str
    total: int
    occupied: int

    @property
    def free(self) -> int:
        return max(self.total - self.occupied, 0)


def key_usage(license_: KeyLicense, moment: datetime) -> list[UsageRow]:
    """Per feature and type: the total, what is held (tokens: consumed) and what is free."""
    taken = seats_taken(license_.key, moment)
    consumed = tokens_consumed(license_.key)
    order = list(LicenseType.values)
    rows = []
    for feature_id in sorted(license_.pools):
        for license_type, pool in sorted(
            license_.pools[feature_id].items(), key=lambda item: order.index(item[0])
        ):
            occupied = (
                consumed.get(feature_id, 0)
                if license_type == LicenseType.TOKEN
                else taken.get((feature_id, license_type), 0)
            )
            rows.append(
                UsageRow(
                    feature_id=feature_id,
                    feature_name=license_.feature_names[feature_id],
                    license_type=license_type,
                    total=pool.capacity,
                    occupied=occupied,
                )
            )
    return rows
