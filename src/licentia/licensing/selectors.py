"""Reads of the licensing protocol: pools of a feature in a key, seats taken, token balances."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum

from licentia.catalog.models import LicenseType
from licentia.clients.search import client_search
from licentia.core import keycodes
from licentia.keys.models import LicenseKey
from licentia.keys.selectors import KeyLicense
from licentia.licensing.models import Session, TokenConsumption
from licentia.licensing.refusals import Code, Refusal


def key_number_parse(typed: str) -> str:
    """The key number as stored, from a number typed in any formatting; refuses 2026 when it
    is malformed."""
    number = keycodes.key_number(typed)
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


MONITOR_FILTERS = ("client", "key", "feature", "type", "user", "host", "database")
MONITOR_LIMIT = 500


def monitor_sessions(
    *, filters: dict[str, str], history: bool, since: datetime, moment: datetime
) -> QuerySet[Session]:
    """The session monitor's rows: seats held now, or (history) sessions ended since a time.
    The client is an id (from its card) or words as the clients' quick search takes them; the
    key an id or its number in any formatting; user, host and database match a part, in any
    letter case."""
    sessions = Session.objects.select_related("key__client", "feature")
    if history:
        sessions = sessions.filter(ended_at__gte=since).order_by("-ended_at", "-id")
    else:
        sessions = sessions.filter(seat_held(moment)).order_by("license_type", "-started_at")
    for name, value in filters.items():
        if not value:
            continue
        if name == "client":
            if value.isdigit():
                sessions = sessions.filter(key__client_id=int(value))
            else:
                # The clients' quick search: any case, Cyrillic included, on both databases.
                found = client_search(query=value).order_by().values("pk")
                sessions = sessions.filter(key__client__in=found)
        elif name == "key":
            if value.isdigit():
                sessions = sessions.filter(key_id=int(value))
            else:
                sessions = sessions.filter(key__number=keycodes.key_number(value) or value)
        elif name == "feature" and value.isdigit():
            sessions = sessions.filter(feature_id=int(value))
        elif name == "type":
            sessions = sessions.filter(license_type=value)
        elif name in ("user", "host", "database"):
            sessions = sessions.filter(**{f"{name}__icontains": value})
    return sessions
