"""Reads for the statistics pages. Everything but the distributors' seats (read from the key
lines, which grow with sales, not with use) comes from the rollups."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from licentia.catalog.models import Feature, Product
from licentia.clients.models import Distributor
from licentia.coupons.models import CouponBatch, CouponKind, CouponLine
from licentia.keys.models import KeyLine, LineState
from licentia.licensing.refusals import Code
from licentia.statistics.models import (
    ConversionCohort,
    CouponDay,
    FeatureUsageDay,
    FeatureUsersMonth,
    KeyUsageDay,
    MetricKeyMonth,
    MetricMonth,
    RefusalDay,
    TrialDay,
)

PERIODS = ("day", "week", "month")


def period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def periods_between(first: date, last: date, period: str) -> list[date]:
    found = []
    current = period_start(first, period)
    while current <= last:
        found.append(current)
        if period == "day":
            current += timedelta(days=1)
        elif period == "week":
            current += timedelta(days=7)
        else:
            current = (current + timedelta(days=32)).replace(day=1)
    return found


def period_label(start: date, period: str) -> str:
    if period == "month":
        return start.strftime("%Y-%m")
    return start.isoformat()


@dataclass
class Series:
    """A chart and its table: labels along the x axis, and named lines of values."""

    labels: list[str]
    lines: list[tuple[str, list[int]]] = field(default_factory=list)

    def chart(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "datasets": [{"label": name, "data": values} for name, values in self.lines],
        }

    def table(self) -> tuple[list[str], list[list[Any]]]:
        headers = ["", *(name for name, _values in self.lines)]
        rows = [
            [label, *(values[index] for _name, values in self.lines)]
            for index, label in enumerate(self.labels)
        ]
        return headers, rows


def product_names() -> dict[int, str]:
    return {product.pk: product.name for product in Product.objects.all()}


def feature_names() -> dict[int, str]:
    return {feature.pk: feature.name for feature in Feature.objects.all()}


def trials_series(*, first: date, last: date, period: str, product_ids: Sequence[int]) -> Series:
    """Trials registered per period, one line per product (all products together when none
    is chosen)."""
    starts = periods_between(first, last, period)
    index = {start: position for position, start in enumerate(starts)}
    rows = TrialDay.objects.filter(day__gte=first, day__lte=last)
    if product_ids:
        rows = rows.filter(product_id__in=product_ids)
    totals: dict[int, list[int]] = defaultdict(lambda: [0] * len(starts))
    for day, product_id, trials in rows.values_list("day", "product_id", "trials"):
        totals[product_id if product_ids else 0][index[period_start(day, period)]] += trials
    names = product_names()
    series = Series([period_label(start, period) for start in starts])
    if product_ids:
        for product_id in product_ids:
            series.lines.append(
                (names.get(product_id, str(product_id)), totals.get(product_id, [0] * len(starts)))
            )
    else:
        series.lines.append((str(_("All products")), totals.get(0, [0] * len(starts))))
    return series


def feature_users_series(*, last_month: date, months: int = 12) -> Series:
    """Distinct active units per feature and month over the months up to last_month."""
    first_month = last_month
    for _step in range(months - 1):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    starts = periods_between(first_month, last_month, "month")
    index = {start: position for position, start in enumerate(starts)}
    values: dict[int, list[int]] = defaultdict(lambda: [0] * len(starts))
    for month, feature_id, units in FeatureUsersMonth.objects.filter(
        month__gte=first_month, month__lte=last_month
    ).values_list("month", "feature_id", "units"):
        values[feature_id][index[month]] = units
    names = feature_names()
    series = Series([period_label(start, "month") for start in starts])
    for feature_id in sorted(values):
        label = (
            str(_("All features")) if feature_id == 0 else names.get(feature_id, str(feature_id))
        )
        series.lines.append((label, values[feature_id]))
    return series


def connections_series(*, first: date, last: date, feature_id: int) -> Series:
    """Per day: distinct units, peak concurrent sessions and sessions started, of a feature
    (0: all)."""
    days = periods_between(first, last, "day")
    index = {day: position for position, day in enumerate(days)}
    units, peak, sessions = [0] * len(days), [0] * len(days), [0] * len(days)
    for row in FeatureUsageDay.objects.filter(
        day__gte=first, day__lte=last, feature_id=feature_id
    ).values_list("day", "units", "peak", "sessions"):
        position = index[row[0]]
        units[position], peak[position], sessions[position] = row[1], row[2], row[3]
    return Series(
        [day.isoformat() for day in days],
        [
            (str(_("distinct users")), units),
            (str(_("peak concurrent sessions")), peak),
            (str(_("sessions started")), sessions),
        ],
    )


def client_sessions(*, first: date, last: date) -> dict[int, int]:
    """Sessions started per client over the days, through the clients' keys as they are now."""
    return {
        row["key__client_id"]: row["total"]
        for row in KeyUsageDay.objects.filter(day__gte=first, day__lte=last)
        .values("key__client_id")
        .annotate(total=Sum("sessions"))
        .order_by()
    }


@dataclass
class Cohort:
    month: date
    product: str
    trials: int
    converted: int
    feature: str = ""

    @property
    def share(self) -> float:
        return round(100 * self.converted / self.trials, 1) if self.trials else 0.0


def conversion_cohorts(
    *,
    first: date,
    last: date,
    within_days: int,
    product_ids: Sequence[int],
    per_feature: bool = False,
) -> list[Cohort]:
    """Per trial month (the months of first..last, whole) and product, or product and feature:
    trials, and how many of their keys got a purchased line of the product (of a product with
    the feature) within `within_days` days of the trial."""
    rows = ConversionCohort.objects.filter(month__gte=first.replace(day=1), month__lte=last)
    if product_ids:
        rows = rows.filter(product_id__in=product_ids)
    if per_feature:
        rows = rows.exclude(feature_id=ConversionCohort.PRODUCT)
    else:
        rows = rows.filter(feature_id=ConversionCohort.PRODUCT)
    products = product_names()
    features = feature_names() if per_feature else {}
    return [
        Cohort(
            month=row["month"],
            product=products.get(row["product_id"], str(row["product_id"])),
            trials=row["cohort"],
            converted=row["converted"] or 0,
            feature=features.get(row["feature_id"], str(row["feature_id"])) if per_feature else "",
        )
        for row in rows.values("month", "product_id", "feature_id")
        .annotate(cohort=Sum("trials"), converted=Sum("trials", filter=Q(days__lte=within_days)))
        .order_by("month", "product_id", "feature_id")
    ]


@dataclass
class Refusals:
    code: int
    reason: str
    refusals: int


def refusals_by_reason(*, first: date, last: date, feature_id: int) -> list[Refusals]:
    """Refused captures over the days per reason (code), of a feature (0: all), most first."""
    rows = RefusalDay.objects.filter(day__gte=first, day__lte=last)
    if feature_id:
        rows = rows.filter(feature_id=feature_id)
    reasons = {code.value: str(code.message) for code in Code}
    return [
        Refusals(row["code"], reasons.get(row["code"], ""), row["total"])
        for row in rows.values("code").annotate(total=Sum("refusals")).order_by("-total", "code")
    ]


def coupon_products(*, first: date, last: date) -> list[tuple[str, str, int, int]]:
    """(product, coupon kind, codes generated, activations) over the days."""
    per_batch = {
        row["batch_id"]: (row["generated"], row["activated"])
        for row in CouponDay.objects.filter(day__gte=first, day__lte=last)
        .values("batch_id")
        .annotate(generated=Sum("generated"), activated=Sum("activated"))
        .order_by()
    }
    kinds = dict(CouponKind.choices)
    names = product_names()
    figures: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for batch_id, product_id, kind in CouponLine.objects.filter(batch_id__in=per_batch).values_list(
        "batch_id", "product_id", "batch__kind"
    ):
        generated, activated = per_batch[batch_id]
        entry = figures[(names.get(product_id, str(product_id)), str(kinds.get(kind, kind)))]
        entry[0] += generated
        entry[1] += activated
    return sorted(
        ((product, kind, values[0], values[1]) for (product, kind), values in figures.items()),
        key=lambda row: (-row[3], row[0], row[1]),
    )


def top_batches(*, first: date, last: date, limit: int = 20) -> list[tuple[CouponBatch, int, int]]:
    rows = list(
        CouponDay.objects.filter(day__gte=first, day__lte=last)
        .values("batch_id")
        .annotate(generated=Sum("generated"), activated=Sum("activated"))
        .order_by("-activated", "batch_id")[:limit]
    )
    batches = CouponBatch.objects.select_related("distributor").in_bulk(
        [row["batch_id"] for row in rows]
    )
    return [
        (batches[row["batch_id"]], row["generated"], row["activated"])
        for row in rows
        if row["batch_id"] in batches
    ]


def distributor_ranking(*, first: date, last: date, today: date) -> list[tuple[str, int, int, int]]:
    """(distributor, codes generated, activated, seats of its clients' live lines)."""
    per_batch = {
        row["batch_id"]: (row["generated"], row["activated"])
        for row in CouponDay.objects.filter(day__gte=first, day__lte=last)
        .values("batch_id")
        .annotate(generated=Sum("generated"), activated=Sum("activated"))
        .order_by()
    }
    figures: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for batch_id, distributor_id in CouponBatch.objects.filter(
        pk__in=per_batch, distributor__isnull=False
    ).values_list("pk", "distributor_id"):
        figures[distributor_id][0] += per_batch[batch_id][0]
        figures[distributor_id][1] += per_batch[batch_id][1]
    from licentia.statistics.services import day_start

    moment = day_start(today)
    live = KeyLine.objects.filter(
        state=LineState.ACTIVE, key__client__distributor__isnull=False
    ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
    for row in (
        live.values("key__client__distributor_id").annotate(seats=Sum("multiplier")).order_by()
    ):
        figures[row["key__client__distributor_id"]][2] += row["seats"]
    names = dict(Distributor.objects.values_list("pk", "name"))
    return sorted(
        (
            (names[distributor_id], values[0], values[1], values[2])
            for distributor_id, values in figures.items()
            if distributor_id in names
        ),
        key=lambda row: (-row[2], -row[1], row[0]),
    )


# The pivot's dimensions: name, what it reads from MetricDay.
DIMENSIONS: dict[str, Any] = {
    "name": ("name", _("metric")),
    "value": ("value", _("value")),
    "company": ("key__client__company", _("company")),
    "key": ("key__number", _("license key")),
    "product": ("product", _("product")),
    "feature": ("feature_id", _("feature")),
    "month": ("month", _("month")),
    "platform_version": ("platform_version", _("platform version")),
    "configuration": ("configuration", _("configuration")),
}
MEASURES = {"count": _("observations"), "keys": _("keys")}


@dataclass
class Pivot:
    row_label: str
    columns: list[str]
    rows: list[tuple[str, list[int], int]]
    column_totals: list[int]
    total: int

    def table(self) -> tuple[list[str], list[list[Any]]]:
        headers = [self.row_label, *self.columns, str(pgettext("pivot table", "Total"))]
        body = [[label, *values, total] for label, values, total in self.rows]
        body.append([str(pgettext("pivot table", "Total")), *self.column_totals, self.total])
        return headers, body


# The dimensions the monthly rollup per key (MetricKeyMonth) does not hold.
OBSERVATION_DIMENSIONS = {"name", "value", "feature"}


def _pivot_sources(
    filters: dict[str, str], first: date, last: date, dimensions: set[str]
) -> list[Any]:
    """The rows the pivot reads: a monthly rollup of the whole months from first's to last's,
    the one per key when the pivot needs no metric, value or feature. Whole months, because
    the current one holds today's observations already: a period ending yesterday would
    otherwise read the month from the daily rows."""
    used = dimensions | {name for name, value in filters.items() if value}
    monthly = MetricMonth if used & OBSERVATION_DIMENSIONS else MetricKeyMonth
    return [
        _pivot_filtered(
            monthly.objects.filter(month__gte=first.replace(day=1), month__lte=last), filters
        )
    ]


def _pivot_filtered(rows: Any, filters: dict[str, str]) -> Any:
    for dimension, value in filters.items():
        if not value:
            continue
        if dimension == "product":
            rows = rows.filter(
                Exists(KeyLine.objects.filter(key_id=OuterRef("key_id"), product_id=value))
            )
        elif dimension == "feature":
            rows = rows.filter(feature_id=value)
        elif dimension == "month":
            rows = rows.filter(month=f"{value}-01")
        else:
            rows = rows.filter(**{DIMENSIONS[dimension][0]: value})
    return rows


def _next_month(value: str) -> date:
    year, month = (int(part) for part in value.split("-")[:2])
    return date(year + month // 12, month % 12 + 1, 1)


def _dimension_expression(dimension: str) -> str:
    return "key__lines__product_id" if dimension == "product" else DIMENSIONS[dimension][0]


def _label(dimension: str, value: Any, products: dict[int, str], features: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if dimension == "product":
        return products.get(value, str(value))
    if dimension == "feature":
        return features.get(value, str(value))
    if dimension == "month":
        return value.strftime("%Y-%m")
    return str(value)


def pivot(
    *,
    row: str,
    column: str,
    measure: str,
    filters: dict[str, str],
    first: date,
    last: date,
    sort: str = "",
    descending: bool = False,
) -> Pivot:
    """Metric figures over two dimensions, with totals; `sort` is "" (by the row label),
    "total" or a column's label."""
    sources = _pivot_sources(filters, first, last, {row, column})
    row_field, column_field = _dimension_expression(row), _dimension_expression(column)
    # One pass: each (row, column, key) once, totals made here, so that the distinct keys of
    # a row, a column and of everything come from the same read.
    by_keys = measure != "count"
    cell_keys: dict[tuple[Any, Any], set[int]] = defaultdict(set)
    row_keys: dict[Any, set[int]] = defaultdict(set)
    column_keys_seen: dict[Any, set[int]] = defaultdict(set)
    every_key: set[int] = set()
    sums: dict[tuple[Any, Any], int] = defaultdict(int)
    for row_value, column_value, key_id, total in (
        found
        for rows in sources
        for found in rows.values_list(row_field, column_field, "key_id")
        .annotate(total=Sum("count"))
        .order_by()
    ):
        sums[(row_value, column_value)] += total or 0
        if by_keys:
            cell_keys[(row_value, column_value)].add(key_id)
            row_keys[row_value].add(key_id)
            column_keys_seen[column_value].add(key_id)
            every_key.add(key_id)
    cells: dict[tuple[Any, Any], int] = {}
    row_totals: dict[Any, int] = defaultdict(int)
    column_totals: dict[Any, int] = defaultdict(int)
    for (row_value, column_value), total in sums.items():
        cells[(row_value, column_value)] = (
            len(cell_keys[(row_value, column_value)]) if by_keys else total
        )
        if not by_keys:
            row_totals[row_value] += total
            column_totals[column_value] += total
    if by_keys:
        row_totals = defaultdict(int, {value: len(keys) for value, keys in row_keys.items()})
        column_totals = defaultdict(
            int, {value: len(keys) for value, keys in column_keys_seen.items()}
        )
    total = len(every_key) if by_keys else sum(sums.values())
    products, features = product_names(), feature_names()
    column_keys = sorted(column_totals, key=lambda value: (value is None, str(value)))
    column_labels = [_label(column, value, products, features) for value in column_keys]
    table = [
        (
            _label(row, row_value, products, features),
            [cells.get((row_value, column_value), 0) for column_value in column_keys],
            row_totals[row_value],
        )
        for row_value in row_totals
    ]
    if sort == "total":
        table.sort(key=lambda item: item[2], reverse=descending)
    elif sort in column_labels:
        position = column_labels.index(sort)
        table.sort(key=lambda item: item[1][position], reverse=descending)
    else:
        table.sort(key=lambda item: item[0], reverse=descending)
    return Pivot(
        row_label=str(capfirst(DIMENSIONS[row][1])),
        columns=column_labels,
        rows=table,
        column_totals=[column_totals[value] for value in column_keys],
        total=total,
    )
