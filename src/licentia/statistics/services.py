"""The rollups: every complete day's figures computed once from the raw records and written to
the statistics tables, incrementally (from the first day not yet rolled up) and idempotently
(a day is deleted and written again as a whole)."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, DateField, F, Max, Min, Model, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncDate, TruncMonth
from django.utils import timezone

from licentia.catalog.models import ProductFeature
from licentia.core.audit import Actor, audited_change
from licentia.core.process_cache import ProcessCache
from licentia.coupons.models import Activation, CouponBatch
from licentia.keys.models import KeyLine, LineState
from licentia.licensing.models import Problem, Session
from licentia.statistics.models import (
    ConversionCohort,
    CouponDay,
    FeatureUsageDay,
    FeatureUsersMonth,
    IgnoredMetric,
    KeyUsageDay,
    MetricDay,
    MetricKeyMonth,
    MetricMonth,
    MetricObservation,
    MetricSettings,
    RefusalDay,
    RollupState,
    TrialDay,
    UnitMonth,
)

# Days rolled up in one pass: the sessions of a pass are read at once.
CHUNK_DAYS = 31
PLATFORM_VERSION = "platform_version"
CONFIGURATION = "configuration"
ALL = FeatureUsageDay.ALL_FEATURES


def day_start(day: date) -> datetime:
    """The first instant of a local calendar day."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def rollup_state() -> RollupState:
    found = RollupState.objects.filter(pk=RollupState.SINGLETON_PK).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return RollupState.objects.create(pk=RollupState.SINGLETON_PK)
    except IntegrityError:
        return RollupState.objects.get(pk=RollupState.SINGLETON_PK)


def metric_settings_get() -> MetricSettings:
    """The metric settings row, made with its defaults when missing."""
    found = MetricSettings.objects.filter(pk=MetricSettings.SINGLETON_PK).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MetricSettings.objects.create(pk=MetricSettings.SINGLETON_PK)
    except IntegrityError:
        return MetricSettings.objects.get(pk=MetricSettings.SINGLETON_PK)


_metric_settings = ProcessCache(metric_settings_get, cleared_by=[MetricSettings])


def metric_settings_update(*, accepted_names: str, actor: Actor) -> MetricSettings:
    """Sets which metric names are accepted, one a line."""
    metric_settings_get()
    names = "\n".join(
        dict.fromkeys(line.strip() for line in accepted_names.splitlines() if line.strip())
    )
    with audited_change(
        MetricSettings, MetricSettings.SINGLETON_PK, actor=actor, action="metricsettings.update"
    ) as current:
        current.accepted_names = names
        current.save(update_fields=["accepted_names"])
    return current


def _oldest_day() -> date | None:
    """The day of the oldest record a rollup reads."""
    moments = [
        Session.objects.aggregate(first=Min("started_at"))["first"],
        KeyLine.objects.filter(is_trial=True).aggregate(first=Min("created_at"))["first"],
        CouponBatch.objects.aggregate(first=Min("created_at"))["first"],
        Activation.objects.aggregate(first=Min("activated_at"))["first"],
    ]
    days = [local_day(moment) for moment in moments if moment is not None]
    problem_day = Problem.objects.aggregate(first=Min("day"))["first"]
    if problem_day is not None:
        days.append(problem_day)
    return min(days) if days else None


def statistics_rollup(*, now: datetime | None = None) -> int:
    """Rolls up every complete day not yet rolled up (on the first run, from the oldest
    record), then the metrics received since the last run. Answers the days rolled up."""
    today = local_day(now or timezone.now())
    rolled = 0
    while True:
        with transaction.atomic():
            state = RollupState.objects.select_for_update().get(pk=rollup_state().pk)
            first = state.next_day or _oldest_day() or today
            if first >= today:
                if state.next_day is None:
                    state.next_day = today
                    state.save(update_fields=["next_day", "updated_at"])
                break
            last = min(first + timedelta(days=CHUNK_DAYS - 1), today - timedelta(days=1))
            days_rollup(first=first, last=last)
            state.next_day = last + timedelta(days=1)
            state.save(update_fields=["next_day", "updated_at"])
            rolled += (last - first).days + 1
    metrics_rollup(now=now)
    _months_fill()
    return rolled


def _months_fill() -> None:
    """Fills the month rollups once from what the daily ones and the key lines hold."""
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(pk=rollup_state().pk)
        if state.months_filled:
            return
        horizon = _rolled_until(state)
        trial_months = (
            KeyLine.objects.filter(is_trial=True, created_at__lt=horizon)
            .annotate(month=_by_month("created_at"))
            .values_list("month", flat=True)
            .distinct()
        )
        cohorts_rollup(months={_as_date(month) for month in trial_months}, horizon=horizon)
        metric_months_rollup(set(MetricDay.objects.values_list("month", flat=True).distinct()))
        state.months_filled = True
        state.save(update_fields=["months_filled", "updated_at"])


def _rolled_until(state: RollupState | None = None) -> datetime:
    """The first instant not yet rolled up (that of the epoch before the first run)."""
    state = state or RollupState.objects.filter(pk=RollupState.SINGLETON_PK).first()
    if state is None or state.next_day is None:
        return datetime(1970, 1, 1, tzinfo=timezone.get_current_timezone())
    return day_start(state.next_day)


def days_rollup(*, first: date, last: date) -> None:
    """Writes the rollups of the days first..last (both included) anew from the raw records."""
    start, end = day_start(first), day_start(last + timedelta(days=1))
    with transaction.atomic():
        _usage_rollup(first, last, start, end)
        _trials_rollup(first, last, start, end)
        _refusals_rollup(first, last)
        _coupons_rollup(first, last, start, end)
        _conversions_rollup(start, end)


def _by_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _by_month(field: str) -> Cast:
    return Cast(TruncMonth(field, tzinfo=timezone.get_current_timezone()), DateField())


def _insert_select(
    model: type[Model], columns: list[str], rows: QuerySet[Any], *, skip_existing: bool = False
) -> None:
    """INSERT INTO the model's table the rows a values() query selects, in the database, with
    no row passing through Python. `columns` name the table's columns in the query's order."""
    quote = connection.ops.quote_name
    sql, params = rows.query.sql_with_params()
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(column) for column in columns)}) {sql}{conflict}",
            params,
        )


def _summed(rows: QuerySet[Any], group: str, column: str) -> dict[date, int]:
    """{day: sum of the column} over the rows of a values() query, summed in the database."""
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(group)}, SUM({quote(column)}) FROM ({sql}) per_key "  # noqa: S608
            f"GROUP BY {quote(group)}",
            params,
        )
        return {_as_date(_date_of(day)): total for day, total in cursor.fetchall()}


def _date_of(value: Any) -> date | datetime:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _usage_rollup(first: date, last: date, start: datetime, end: datetime) -> None:
    started = Session.objects.filter(started_at__gte=start, started_at__lt=end).annotate(
        day=_by_day("started_at")
    )
    KeyUsageDay.objects.filter(day__gte=first, day__lte=last).delete()
    _insert_select(
        KeyUsageDay,
        ["day", "key_id", "feature_id", "license_type", "sessions", "units"],
        started.values("day", "key_id", "feature_id", "license_type")
        .annotate(sessions=Count("id"), units=Count("unit", distinct=True))
        .order_by(),
    )
    # Distinct units: a unit is one of a key, so the units of a feature are the sum of each
    # key's distinct units; of all features, the sum of each key's distinct units of any.
    sessions: dict[tuple[date, int], int] = {}
    units: dict[tuple[date, int], int] = {}
    for row in (
        KeyUsageDay.objects.filter(day__gte=first, day__lte=last)
        .values("day", "feature_id")
        .annotate(sessions=Sum("sessions"))
        .order_by()
    ):
        sessions[(row["day"], row["feature_id"])] = row["sessions"]
    for row in started.values("day").annotate(sessions=Count("id")).order_by():
        sessions[(row["day"], ALL)] = row["sessions"]
    for feature_id in {feature for _day, feature in sessions if feature != ALL}:
        per_key = (
            started.filter(feature_id=feature_id)
            .values("day", "key_id")
            .annotate(units=Count("unit", distinct=True))
            .order_by()
        )
        for day, total in _summed(per_key, "day", "units").items():
            units[(day, feature_id)] = total
    every = started.values("day", "key_id").annotate(units=Count("unit", distinct=True)).order_by()
    for day, total in _summed(every, "day", "units").items():
        units[(day, ALL)] = total
    peaks = _peaks(first, last, start, end)
    FeatureUsageDay.objects.filter(day__gte=first, day__lte=last).delete()
    FeatureUsageDay.objects.bulk_create(
        FeatureUsageDay(
            day=day,
            feature_id=feature_id,
            sessions=sessions.get((day, feature_id), 0),
            units=units.get((day, feature_id), 0),
            peak=peaks.get((day, feature_id), 0),
        )
        for day, feature_id in sorted(set(sessions) | set(peaks))
    )
    months = Session.objects.filter(started_at__gte=start, started_at__lt=end).annotate(
        month=_by_month("started_at")
    )
    _insert_select(
        UnitMonth,
        ["month", "key_id", "feature_id", "unit"],
        months.values("month", "key_id", "feature_id", "unit").distinct().order_by(),
        skip_existing=True,
    )
    _month_users(_months_between(first, last))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _months_between(first: date, last: date) -> list[date]:
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _month_users(months: list[date]) -> None:
    for month in months:
        rows = [
            FeatureUsersMonth(month=month, feature_id=row["feature_id"], units=row["units"])
            for row in UnitMonth.objects.filter(month=month)
            .values("feature_id")
            .annotate(units=Count("id"))
            .order_by()
        ]
        if rows:
            every = UnitMonth.objects.filter(month=month).values("key_id", "unit").distinct()
            rows.append(FeatureUsersMonth(month=month, feature_id=ALL, units=every.count()))
        FeatureUsersMonth.objects.filter(month=month).delete()
        FeatureUsersMonth.objects.bulk_create(rows)


def _peaks(first: date, last: date, start: datetime, end: datetime) -> dict[tuple[date, int], int]:
    """The most sessions holding a seat at one instant of each day, per feature and of all,
    counted in the database: a session holds its seat over [its capture, its end) or while
    it holds the seat (an open seat with no limit holds it past the end), clipped to
    [start, end). The level at an instant is a running sum over the starts (+1) and ends (-1)
    in time order, an end before a start at the same instant; the peak of a day is the
    highest level after one of its starts or at its first instant (a probe, 0, between the
    ends and the starts of that instant)."""
    overlapping = Session.objects.filter(started_at__lt=end).filter(
        Q(ended_at__gt=start)
        | Q(ended_at__isnull=True, holds_until__isnull=True)
        | Q(ended_at__isnull=True, holds_until__gt=start)
    )
    sessions_sql, sessions_params = (
        overlapping.values("feature_id", "started_at", "ended_at", "holds_until")
        .order_by()
        .query.sql_with_params()
    )
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    adapt = connection.ops.adapt_datetimefield_value
    boundaries = ", ".join(["(%s, %s, %s)"] * len(days))
    boundary_params: list[Any] = []
    for index, day in enumerate(days):
        boundary_params += [index, adapt(day_start(day)), adapt(day_start(day + timedelta(days=1)))]
    window = "ORDER BY at, delta ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    sql = f"""
        WITH days (day_index, day_start, day_end) AS (VALUES {boundaries}),
        held AS (
            SELECT feature_id,
                CASE WHEN started_at > %s THEN started_at ELSE %s END AS since,
                CASE WHEN COALESCE(ended_at, holds_until) IS NULL
                        OR COALESCE(ended_at, holds_until) > %s THEN %s
                    ELSE COALESCE(ended_at, holds_until) END AS until
            FROM ({sessions_sql}) overlapping
        ),
        kept AS (SELECT feature_id, since, until FROM held WHERE since < until),
        events AS (
            SELECT feature_id, since AS at, 1 AS delta FROM kept
            UNION ALL SELECT feature_id, until AS at, -1 AS delta FROM kept
            UNION ALL SELECT features.feature_id, days.day_start AS at, 0 AS delta
                FROM days CROSS JOIN (SELECT DISTINCT feature_id FROM kept) features
        ),
        levels AS (
            SELECT feature_id, at, delta,
                SUM(delta) OVER (PARTITION BY feature_id {window}) AS feature_level,
                SUM(delta) OVER ({window}) AS total_level
            FROM events
        )
        SELECT days.day_index, levels.feature_id, MAX(levels.feature_level),
            MAX(levels.total_level)
        FROM levels JOIN days ON levels.at >= days.day_start AND levels.at < days.day_end
        WHERE levels.delta >= 0
        GROUP BY days.day_index, levels.feature_id
    """  # noqa: S608 - our tables, the values are parameters
    params = [*boundary_params, adapt(start), adapt(start), adapt(end), adapt(end)]
    peaks: dict[tuple[date, int], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *sessions_params])
        for day_index, feature_id, feature_level, total_level in cursor.fetchall():
            day = days[day_index]
            if feature_level > 0:
                peaks[(day, feature_id)] = feature_level
            if total_level > peaks.get((day, ALL), 0):
                peaks[(day, ALL)] = total_level
    return peaks


def _trials_rollup(first: date, last: date, start: datetime, end: datetime) -> None:
    TrialDay.objects.filter(day__gte=first, day__lte=last).delete()
    TrialDay.objects.bulk_create(
        TrialDay(day=row["day"], product_id=row["product_id"], trials=row["trials"])
        for row in KeyLine.objects.filter(is_trial=True, created_at__gte=start, created_at__lt=end)
        .annotate(day=_by_day("created_at"))
        .values("day", "product_id")
        .annotate(trials=Count("id"))
        .order_by()
    )


def _refusals_rollup(first: date, last: date) -> None:
    RefusalDay.objects.filter(day__gte=first, day__lte=last).delete()
    RefusalDay.objects.bulk_create(
        RefusalDay(
            day=row["day"], feature_id=row["feature_id"], code=row["code"], refusals=row["total"]
        )
        for row in Problem.objects.filter(day__gte=first, day__lte=last)
        .values("day", "feature_id", "code")
        .annotate(total=Sum("count"))
        .order_by()
    )


def _coupons_rollup(first: date, last: date, start: datetime, end: datetime) -> None:
    figures: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in (
        CouponBatch.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=_by_day("created_at"))
        .values("day", "id", "size")
    ):
        figures[(row["day"], row["id"])][0] += row["size"]
    for row in (
        Activation.objects.filter(activated_at__gte=start, activated_at__lt=end)
        .annotate(day=_by_day("activated_at"))
        .values("day", "coupon__batch_id")
        .annotate(activated=Count("id"))
        .order_by()
    ):
        figures[(row["day"], row["coupon__batch_id"])][1] += row["activated"]
    CouponDay.objects.filter(day__gte=first, day__lte=last).delete()
    CouponDay.objects.bulk_create(
        CouponDay(day=day, batch_id=batch_id, generated=generated, activated=activated)
        for (day, batch_id), (generated, activated) in sorted(figures.items())
    )


def _conversions_rollup(start: datetime, end: datetime) -> None:
    """Writes anew the cohorts of the trial months of every key that got a line, or had one
    end (a coupon deactivation removes a purchase), in [start, end)."""
    # Re-running a day already passed must not forget the purchases of the days after it.
    horizon = max(end, _rolled_until())
    changed_keys = KeyLine.objects.filter(
        Q(created_at__gte=start, created_at__lt=end) | Q(ended_at__gte=start, ended_at__lt=end)
    ).values("key_id")
    months = (
        KeyLine.objects.filter(is_trial=True, key_id__in=changed_keys, created_at__lt=horizon)
        .annotate(month=_by_month("created_at"))
        .values_list("month", flat=True)
        .distinct()
    )
    cohorts_rollup(months={_as_date(month) for month in months}, horizon=horizon)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _days_to(moment: datetime, since: datetime) -> int:
    """Whole days from `since` to `moment`, rounded up: within N days exactly when <= N."""
    return -((since - moment) // timedelta(days=1))


def cohorts_rollup(*, months: set[date], horizon: datetime) -> None:
    """Writes anew the conversion cohorts of the trial months from the key lines created
    before `horizon`."""
    features: dict[int, set[int]] = defaultdict(set)
    for product_id, feature_id in ProductFeature.objects.values_list("product_id", "feature_id"):
        features[product_id].add(feature_id)
    for month in sorted(months):
        start = day_start(month)
        end = min(day_start(_next_month(month)), horizon)
        trials = KeyLine.objects.filter(is_trial=True, created_at__gte=start, created_at__lt=end)
        purchases: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for key_id, product_id, created_at in (
            KeyLine.objects.filter(
                is_trial=False,
                key_id__in=trials.values("key_id"),
                created_at__gte=start,
                created_at__lt=horizon,
            )
            .exclude(state=LineState.REMOVED_BY_COUPON)
            .values_list("key_id", "product_id", "created_at")
        ):
            purchases[key_id].append((created_at, product_id))
        cohorts: dict[tuple[int, int, int | None], int] = defaultdict(int)
        for key_id, product_id, trial_at in trials.values_list(
            "key_id", "product_id", "created_at"
        ):
            bought = sorted(
                at_product for at_product in purchases[key_id] if at_product[0] >= trial_at
            )
            first_of_product = next(
                (at for at, bought_product in bought if bought_product == product_id), None
            )
            cohorts[
                (product_id, ConversionCohort.PRODUCT, _days_or_none(first_of_product, trial_at))
            ] += 1
            for feature_id in features[product_id]:
                first_with_feature = next(
                    (at for at, bought_product in bought if feature_id in features[bought_product]),
                    None,
                )
                cohorts[(product_id, feature_id, _days_or_none(first_with_feature, trial_at))] += 1
        ConversionCohort.objects.filter(month=month).delete()
        ConversionCohort.objects.bulk_create(
            ConversionCohort(
                month=month, product_id=product_id, feature_id=feature_id, days=days, trials=count
            )
            for (product_id, feature_id, days), count in cohorts.items()
        )


def _days_or_none(moment: datetime | None, since: datetime) -> int | None:
    return None if moment is None else _days_to(moment, since)


def metrics_rollup(*, now: datetime | None = None) -> int:
    """Writes anew the metric rollups of every day an observation received since the last run
    belongs to. Answers the number of days written. Observations younger than a minute wait
    for the next run, so that none still being written is passed over."""
    cutoff = (now or timezone.now()) - timedelta(minutes=1)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(pk=rollup_state().pk)
        fresh = MetricObservation.objects.filter(
            id__gt=state.metrics_through_id, received_at__lt=cutoff
        )
        newest = fresh.aggregate(top=Max("id"))["top"]
        if newest is None:
            return 0
        days = sorted(
            {
                _as_date(day)
                for day in fresh.filter(id__lte=newest)
                .annotate(day=_by_day("at"))
                .values_list("day", flat=True)
                .distinct()
            }
        )
        metric_days_rollup(days)
        state.metrics_through_id = newest
        state.save(update_fields=["metrics_through_id", "updated_at"])
        return len(days)


# A key's platform version and configuration are the ones it reported last within this time
# before the end of the day.
PROFILE_DAYS = 31


def metric_days_rollup(days: list[date]) -> None:
    """Writes anew the metric rollup of each of the days."""
    if not days:
        return
    days = sorted(set(days))
    profiles = _profiles(days)
    for day in days:
        start, end = day_start(day), day_start(day + timedelta(days=1))
        MetricDay.objects.filter(day=day).delete()
        _insert_select(
            MetricDay,
            ["day", "month", "key_id", "feature_id", "name", "value", "count"],
            MetricObservation.objects.filter(at__gte=start, at__lt=end)
            .annotate(day=_by_day("at"), month=_by_month("at"))
            .values("day", "month", "key_id", "feature_id", "name", "value")
            .annotate(total=Sum("count"))
            .order_by(),
        )
        profile = profiles[day]
        updates = [
            (
                profile.get((key_id, PLATFORM_VERSION), ""),
                profile.get((key_id, CONFIGURATION), ""),
                day,
                key_id,
            )
            for key_id in {key_id for key_id, _name in profile}
        ]
        if updates:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {quote(MetricDay._meta.db_table)} "  # noqa: S608 - our table
                    "SET platform_version = %s, configuration = %s WHERE day = %s AND key_id = %s",
                    [
                        (version, configuration, connection.ops.adapt_datefield_value(on), key)
                        for version, configuration, on, key in updates
                    ],
                )
    metric_months_rollup({day.replace(day=1) for day in days})


# Each monthly metric rollup and the daily rollup's columns it sums its count over.
_METRIC_MONTHS = (
    (MetricKeyMonth, ("month", "key_id", "platform_version", "configuration")),
    (
        MetricMonth,
        ("month", "key_id", "feature_id", "name", "value", "platform_version", "configuration"),
    ),
)


def metric_months_rollup(months: set[date]) -> None:
    """Writes anew the monthly metric rollups of the months from the daily one."""
    for month in sorted(months):
        for model, grouped_by in _METRIC_MONTHS:
            model.objects.filter(month=month).delete()
            _insert_select(
                model,
                [*grouped_by, "count"],
                MetricDay.objects.filter(month=month)
                .values(*grouped_by)
                .annotate(total=Sum("count"))
                .order_by(),
            )


def _profiles(days: list[date]) -> dict[date, dict[tuple[int, str], str]]:
    """Per day: the platform version and configuration each key reported last within
    PROFILE_DAYS before the day's end, read in one pass over the days' span."""
    ends = {day: day_start(day + timedelta(days=1)) for day in days}
    since = ends[days[0]] - timedelta(days=PROFILE_DAYS)
    reported = (
        MetricObservation.objects.filter(
            name__in=[PLATFORM_VERSION, CONFIGURATION], at__gte=since, at__lt=ends[days[-1]]
        )
        .order_by("at", "id")
        .values_list("key_id", "name", "value", "at")
        .iterator(chunk_size=5000)
    )
    latest: dict[tuple[int, str], tuple[str, datetime]] = {}
    found: dict[date, dict[tuple[int, str], str]] = {}
    active: dict[date, set[int]] = defaultdict(set)
    for day, key_id in (
        MetricObservation.objects.filter(
            at__gte=ends[days[0]] - timedelta(days=1), at__lt=ends[days[-1]]
        )
        .annotate(day=_by_day("at"))
        .values_list("day", "key_id")
        .distinct()
    ):
        active[_as_date(day)].add(key_id)
    pending = next(reported, None)
    for day in days:
        end = ends[day]
        while pending is not None and pending[3] < end:
            latest[(pending[0], pending[1])] = (pending[2], pending[3])
            pending = next(reported, None)
        horizon = end - timedelta(days=PROFILE_DAYS)
        found[day] = {
            where: value
            for where, (value, at) in latest.items()
            if at >= horizon and where[0] in active[day]
        }
    return found


def purge_horizon() -> datetime:
    """The first instant of the first day not rolled up: sessions that ended before it are
    no longer needed by the rollups."""
    return _rolled_until()


def metrics_record(
    *,
    key_id: int,
    session_id: UUID | None,
    observations: list[dict[str, Any]],
    moment: datetime,
) -> tuple[int, int]:
    """Stores a batch of observations of accepted names in one statement and counts the
    others by name. A session of the key gives them its feature; an unknown or purged one
    none. Answers (accepted, ignored)."""
    accepted_names = _metric_settings.get().names()
    kept = [item for item in observations if item["name"] in accepted_names]
    ignored: dict[str, int] = defaultdict(int)
    for item in observations:
        if item["name"] not in accepted_names:
            ignored[item["name"]] += 1
    feature_id = None
    if session_id is not None and kept:
        feature_id = (
            Session.objects.filter(public_id=session_id, key_id=key_id)
            .values_list("feature_id", flat=True)
            .first()
        )
    if kept:
        _observations_insert(key_id, feature_id, kept, moment)
    if ignored:
        _ignored_count(ignored, moment)
    return len(kept), sum(ignored.values())


def _observed_at(at: datetime | None, moment: datetime) -> datetime:
    """The moment sent, in the server's zone when it names none; never later than received."""
    if at is None:
        return moment
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return min(at, moment)


def _observations_insert(
    key_id: int, feature_id: int | None, kept: list[dict[str, Any]], moment: datetime
) -> None:
    """One INSERT for the whole batch (the ORM would split it on SQLite)."""
    quote = connection.ops.quote_name
    columns = ["key_id", "feature_id", "name", "value", "count", "at", "received_at"]
    received = connection.ops.adapt_datetimefield_value(moment)
    params: list[Any] = []
    for item in kept:
        at = connection.ops.adapt_datetimefield_value(_observed_at(item["at"], moment))
        params += [key_id, feature_id, item["name"], item["value"], item["count"], at, received]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(MetricObservation._meta.db_table)} "  # noqa: S608 - our table
            f"({', '.join(quote(column) for column in columns)}) "
            f"VALUES {', '.join([row] * len(kept))}",
            params,
        )


def _ignored_count(ignored: dict[str, int], moment: datetime) -> None:
    with transaction.atomic():
        for name, count in sorted(ignored.items()):
            updated = IgnoredMetric.objects.filter(name=name).update(
                count=F("count") + count, last_at=moment
            )
            if not updated:
                try:
                    with transaction.atomic():
                        IgnoredMetric.objects.create(name=name, count=count, last_at=moment)
                except IntegrityError:
                    IgnoredMetric.objects.filter(name=name).update(
                        count=F("count") + count, last_at=moment
                    )
