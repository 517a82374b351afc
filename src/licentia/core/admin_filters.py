"""The theme's date range filters, read in the cabinet's time zone: its own compare naive
times with stored aware ones (a warning, and an error for a year no time zone can hold)."""

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from unfold.contrib.filters.admin import RangeDateFilter, RangeDateTimeFilter
from unfold.utils import parse_date_str, parse_datetime_str


class DayRangeFilter(RangeDateFilter):
    """From one local day to another, both included, on a date-time column."""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        filters: dict[str, Any] = {}
        for bound, lookup in (("from", "gte"), ("to", "lte")):
            value = self.used_parameters.get(f"{self.parameter_name}_{bound}")
            day = parse_date_str(value) if isinstance(value, str) else None
            if day is not None:
                filters[f"{self.parameter_name}__date__{lookup}"] = day
        return queryset.filter(**filters)


class MomentRangeFilter(RangeDateTimeFilter):
    """From one local date and time to another; a time no time zone can hold finds nothing."""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        filters: dict[str, Any] = {}
        for bound, lookup in (("from", "gte"), ("to", "lte")):
            day = self.used_parameters.get(f"{self.parameter_name}_{bound}_0")
            time = self.used_parameters.get(f"{self.parameter_name}_{bound}_1")
            if not (isinstance(day, str) and isinstance(time, str)):
                continue
            moment = parse_datetime_str(f"{day} {time}")
            if moment is None:
                continue
            try:
                filters[f"{self.parameter_name}__{lookup}"] = _aware(moment)
            except (OverflowError, ValueError):
                return queryset.none()
        return queryset.filter(**filters)


def _aware(moment: datetime) -> datetime:
    aware = timezone.make_aware(moment)
    aware.astimezone(UTC)  # raises for the first and last days of the calendar
    return aware
