"""What the client cabinet reads: always the signed-in client's own keys, sessions, problems."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from licentia.catalog.models import Feature, LicenseType
from licentia.clients.models import Client
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import (
    KeyState,
    key_license,
    key_lines,
    key_state,
    line_features,
    line_sentence,
)
from licentia.licensing.models import EndReason, Problem, Session
from licentia.licensing.refusals import refusal_message
from licentia.licensing.selectors import UsageRow, key_usage, seat_held
from licentia.portal.models import PortalSession, SignInAddress

RESET_WINDOW = timedelta(days=30)
MONITOR_LIMIT = 500
PROBLEMS_LIMIT = 500


def client_sign_in_addresses(client: Client) -> list[str]:
    """Who may sign in: the card's e-mail and alert e-mail, and the addresses the client
    added, lower-cased, each once."""
    addresses = [client.email, client.alert_email]
    addresses += list(SignInAddress.objects.filter(client=client).values_list("email", flat=True))
    return list(dict.fromkeys(a.strip().lower() for a in addresses if a and a.strip()))


def client_keys(client: Client) -> QuerySet[LicenseKey]:
    return LicenseKey.objects.filter(client=client).order_by("created_at", "id")


def client_resets_used(*, key_id: int, since: datetime) -> int:
    return Session.objects.filter(
        key_id=key_id, end_reason=EndReason.RESET_BY_CLIENT, ended_at__gte=since
    ).count()


def resets_left(keys: list[LicenseKey], *, at: datetime | None = None) -> dict[int, int]:
    """Per key: the self-service resets left in the last 30 days."""
    since = (at or timezone.now()) - RESET_WINDOW
    limit = vendor_settings_get().client_resets_per_30_days
    used = dict(
        Session.objects.filter(
            key__in=keys, end_reason=EndReason.RESET_BY_CLIENT, ended_at__gte=since
        )
        .values("key_id")
        .annotate(n=Count("id"))
        .values_list("key_id", "n")
    )
    return {key.pk: max(limit - used.get(key.pk, 0), 0) for key in keys}


@dataclass
class LineView:
    product: str
    multiplier: int
    is_trial: bool
    sentence: str
    features: list[str]


@dataclass
class KeyView:
    key: LicenseKey
    state: str
    state_label: str
    lines: list[LineView]
    usage: list[UsageRow]


def key_views(client: Client, *, at: datetime | None = None) -> list[KeyView]:
    """Each key with its products, terms and state in words, and its seats per feature."""
    moment = at or timezone.now()
    views = []
    for key in client_keys(client):
        lines = key_lines(key)
        state = key_state(key, at=moment, lines=lines)
        views.append(
            KeyView(
                key=key,
                state=state,
                state_label=str(KeyState(state).label),
                lines=[_line_view(line, moment) for line in lines],
                usage=key_usage(key_license(key, moment, lines=lines), moment),
            )
        )
    return views


def _line_view(line: KeyLine, moment: datetime) -> LineView:
    return LineView(
        product=line.product.name,
        multiplier=line.multiplier,
        is_trial=line.is_trial,
        sentence=str(line_sentence(line, at=moment)),
        features=line_features(line),
    )


@dataclass
class SummaryRow:
    feature_id: int
    feature_name: str
    license_type: str
    total: int = 0
    occupied: int = 0

    @property
    def free(self) -> int:
        return max(self.total - self.occupied, 0)

    @property
    def is_tokens(self) -> bool:
        return self.license_type == LicenseType.TOKEN


def license_summary(client: Client, *, at: datetime | None = None) -> list[SummaryRow]:
    """Per feature and license type, across the client's keys: total, occupied, free."""
    moment = at or timezone.now()
    rows: dict[tuple[int, str], SummaryRow] = {}
    for key in client_keys(client):
        for usage in key_usage(key_license(key, moment), moment):
            row = rows.setdefault(
                (usage.feature_id, usage.license_type),
                SummaryRow(usage.feature_id, usage.feature_name, usage.license_type),
            )
            row.total += usage.total
            row.occupied += usage.occupied
    order = list(LicenseType.values)
    return sorted(rows.values(), key=lambda r: (r.feature_id, order.index(r.license_type)))


def monitor_rows(
    client: Client,
    *,
    key: LicenseKey | None = None,
    feature_id: int | None = None,
    license_type: str = "",
    at: datetime | None = None,
) -> list[Session]:
    """The seats the client's keys hold now: live sessions and bound seats."""
    sessions = (
        Session.objects.filter(key__client=client)
        .filter(seat_held(at or timezone.now()))
        .select_related("key", "feature")
        .order_by("key_id", "feature_id", "license_type", "-started_at")
    )
    if key is not None:
        sessions = sessions.filter(key=key)
    if feature_id is not None:
        sessions = sessions.filter(feature_id=feature_id)
    if license_type:
        sessions = sessions.filter(license_type=license_type)
    return list(sessions[:MONITOR_LIMIT])


@dataclass
class ProblemRow:
    day: date
    last_at: datetime
    key: str
    feature: str
    reason: str
    code: int
    unit: str
    count: int


def problem_rows(client: Client, *, since: date, key: LicenseKey | None = None) -> list[ProblemRow]:
    """Refused captures of the client's keys per feature, reason, unit and day."""
    problems = Problem.objects.filter(key__client=client, day__gte=since)
    if key is not None:
        problems = problems.filter(key=key)
    problems = problems.order_by("-day", "-last_at", "-id")[:PROBLEMS_LIMIT]
    names = _feature_names()
    return [
        ProblemRow(
            day=problem.day,
            last_at=problem.last_at,
            key=problem.key_number,
            feature=f"{names.get(problem.feature_id, '')} ({problem.feature_id})",
            reason=refusal_message(problem.code),
            code=problem.code,
            unit=problem.unit,
            count=problem.count,
        )
        for problem in problems
    ]


def _feature_names() -> dict[int, str]:
    return {feature.pk: feature.name for feature in Feature.objects.all()}


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


@dataclass
class Chart:
    labels: list[str]
    datasets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(any(dataset["data"]) for dataset in self.datasets)

    def as_json(self) -> dict[str, Any]:
        return {"labels": self.labels, "datasets": self.datasets}


def _chart(days: list[date], counts: dict[Any, dict[date, int]], names: dict[Any, str]) -> Chart:
    chart = Chart(labels=[day.isoformat() for day in days])
    for series in sorted(counts, key=str):
        chart.datasets.append(
            {
                "label": names.get(series, str(series)),
                "data": [counts[series].get(day, 0) for day in days],
            }
        )
    return chart


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def captures_chart(
    client: Client, *, since: date, until: date, key: LicenseKey | None = None
) -> Chart:
    """Seats captured per day and feature (new sessions) over the period, local days."""
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), datetime.min.time()))
    sessions = Session.objects.filter(key__client=client, started_at__gte=start, started_at__lt=end)
    if key is not None:
        sessions = sessions.filter(key=key)
    rows = (
        sessions.annotate(day=TruncDate("started_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "feature_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[Any, dict[date, int]] = defaultdict(dict)
    for row in rows:
        counts[row["feature_id"]][_day_of(row["day"])] = row["n"]
    names = {pk: f"{name} ({pk})" for pk, name in _feature_names().items()}
    return _chart(_days(since, until), counts, names)


def refusals_chart(
    client: Client, *, since: date, until: date, key: LicenseKey | None = None
) -> Chart:
    """Refused captures per day and reason over the period."""
    problems = Problem.objects.filter(key__client=client, day__gte=since, day__lte=until)
    if key is not None:
        problems = problems.filter(key=key)
    rows = problems.values("day", "code").annotate(n=Sum("count")).order_by()
    counts: dict[Any, dict[date, int]] = defaultdict(dict)
    for row in rows:
        counts[row["code"]][row["day"]] = row["n"]
    names = {code: f"{code}: {refusal_message(code)}" for code in counts}
    return _chart(_days(since, until), counts, names)


def client_portal_sessions(client: Client, *, at: datetime | None = None) -> list[PortalSession]:
    return list(
        PortalSession.objects.filter(
            client=client, ended_at__isnull=True, expires_at__gt=at or timezone.now()
        ).order_by("-last_seen_at", "-id")
    )
