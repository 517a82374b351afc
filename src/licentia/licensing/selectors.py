"""Reads of the licensing protocol: pools of a feature in a key, seats taken, token balances."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet, Sum

from licentia.catalog.models import LicenseType
from licentia.core import keycodes
from licentia.core.models import AuditEvent
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import KeyLicense, legacy_key_find
from licentia.licensing.models import Session, TokenConsumption
from licentia.licensing.refusals import Code, Refusal


def key_number_parse(typed: str) -> str:
    """The key number as stored, from a number typed in any formatting, or a legacy number
    (imported from the previous service) as typed; refuses 2026 when it is neither."""
    number = keycodes.key_number(typed) or legacy_key_find(typed)
    if number is None:
        raise Refusal(Code.MALFORMED_KEY)
    return number


def key_find(typed: str) -> LicenseKey:
    """The key for a number typed in any formatting; refuses 2026 when malformed, 2009 when
    unknown."""
    key = LicenseKey.objects.select_related("client").filter(number=key_number_parse(typed)).first()
    if key is None:
        raise Refusal(Code.UNKNOWN_KEY)
    return key


def seat_held(moment: datetime) -> Q:
    """The seat rule of Session.holds_seat as a filter: a seat is free the instant its lease
    or idle limit passes, swept or not."""
    return Q(ended_at__isnull=True) & (Q(holds_until__isnull=True) | Q(holds_until__gt=moment))


def seats_taken(key: LicenseKey, moment: datetime) -> dict[tuple[int, str], int]:
    """Per (feature id, license type): seats held now."""
    rows = (
        Session.objects.filter(key=key)
        .filter(seat_held(moment))
        .values("feature_id", "license_type")
        .annotate(taken=Count("id"))
        .order_by()
    )
    return {(row["feature_id"], row["license_type"]): row["taken"] for row in rows}


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


MONITOR_LIMIT = 500


def monitor_sessions(*, history: bool, moment: datetime) -> QuerySet[Session]:
    """The session monitor's rows before its filters: seats held now, or (history) ended
    sessions, newest first."""
    sessions = Session.objects.select_related("key__client", "feature")
    if history:
        return sessions.filter(ended_at__isnull=False).order_by("-ended_at", "-id")
    return sessions.filter(seat_held(moment)).order_by("license_type", "-started_at")


@dataclass(frozen=True)
class ClientPlace:
    client_id: int
    ip: str
    online: bool


def clients_using(
    *, feature_ids: list[int], since: datetime, moment: datetime
) -> list[ClientPlace]:
    """Clients with sessions of the features since `since`: the IP of each one's latest session
    and whether it holds a seat of them now (the vendor API's map)."""
    latest: dict[int, tuple[datetime, str]] = {}
    pairs = (
        Session.objects.filter(feature_id__in=feature_ids, started_at__gte=since, ip__isnull=False)
        .values("key__client_id", "ip")
        .annotate(last=Max("started_at"))
        .order_by()
    )
    for pair in pairs:
        client_id = pair["key__client_id"]
        if client_id not in latest or latest[client_id][0] < pair["last"]:
            latest[client_id] = (pair["last"], pair["ip"])
    online = set(
        Session.objects.filter(seat_held(moment), feature_id__in=feature_ids)
        .values_list("key__client_id", flat=True)
        .distinct()
    )
    return [
        ClientPlace(client_id=client_id, ip=ip, online=client_id in online)
        for client_id, (_last, ip) in sorted(latest.items())
    ]


def trial_lines(
    *,
    after_id: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    product_id: int | None = None,
) -> QuerySet[KeyLine]:
    """Trial lines in the order they were made (by id), after `after_id`, made in [start,
    end): new trials to call (the vendor API's trials/new and the cabinet's work list)."""
    lines = KeyLine.objects.filter(is_trial=True, pk__gt=after_id).select_related(
        "product", "key__client"
    )
    if start is not None:
        lines = lines.filter(created_at__gte=start)
    if end is not None:
        lines = lines.filter(created_at__lt=end)
    if product_id is not None:
        lines = lines.filter(product_id=product_id)
    return lines.order_by("id")


def trial_app_versions(lines: list[KeyLine]) -> dict[int, str]:
    """The application version each trial was registered from (line id → version), as its
    registration recorded it."""
    key_ids = {str(line.key_id) for line in lines}
    wanted = {line.pk for line in lines}
    versions: dict[int, str] = {}
    events = AuditEvent.objects.filter(
        action="trial.register", object_type="keys.licensekey", object_id__in=key_ids
    ).values_list("after", flat=True)
    for after in events:
        recorded = after or {}
        line_id = recorded.get("line")
        if line_id in wanted:
            versions[line_id] = str(recorded.get("app_version") or "")
    return versions
