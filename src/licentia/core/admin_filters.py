"""The theme's date range filters with the cabinet's own date boxes (core.moments): days and
moments typed as 15.03.2025 or 15.03.2025 14:05 and read in the vendor's time zone. The theme's
own boxes compare naive times with stored aware ones and carry the admin's calendar, which adds
a time-zone note when the manager's computer is elsewhere."""

from typing import Any

from django import forms
from django.db.models import DateTimeField, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateFilter

from licentia.core.moments import DayField, MomentField, MomentInput


class DayRangeForm(forms.Form):
    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[f"{name}_from"] = DayField(
            label="", required=False, widget=_box(_("from dd.mm.yyyy"), with_time=False)
        )
        self.fields[f"{name}_to"] = DayField(
            label="", required=False, widget=_box(_("to dd.mm.yyyy"), with_time=False)
        )


class MomentRangeForm(forms.Form):
    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[f"{name}_from"] = MomentField(
            label="", required=False, widget=_box(_("from dd.mm.yyyy hh:mm"), with_time=True)
        )
        # A day alone as the end of the range takes the whole of that day.
        self.fields[f"{name}_to"] = MomentField(
            label="",
            required=False,
            ends_day=True,
            widget=_box(_("to dd.mm.yyyy hh:mm"), with_time=True),
        )


def _box(placeholder: Any, *, with_time: bool) -> MomentInput:
    return MomentInput(with_time=with_time, attrs={"placeholder": placeholder})


class _CabinetRangeFilter(RangeDateFilter):
    """The range's boxes as a form: what does not read as a date is shown as an error and
    filters nothing."""

    def bounds(self) -> dict[str, Any]:
        name = self.parameter_name
        form = self.form_class(
            name=name,
            data={
                f"{name}_from": self.used_parameters.get(f"{name}_from"),
                f"{name}_to": self.used_parameters.get(f"{name}_to"),
            },
        )
        if not form.is_valid():
            return {}
        return {
            lookup: form.cleaned_data[f"{name}_{bound}"]
            for bound, lookup in (("from", "gte"), ("to", "lte"))
            if form.cleaned_data.get(f"{name}_{bound}") is not None
        }


class DayRangeFilter(_CabinetRangeFilter):
    """From one local day to another, both included, on a date or date-time column."""

    form_class = DayRangeForm

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        column = (
            f"{self.parameter_name}__date"
            if isinstance(self.field, DateTimeField)
            else (self.parameter_name)
        )
        return queryset.filter(
            **{f"{column}__{lookup}": day for lookup, day in self.bounds().items()}
        )


class MomentRangeFilter(_CabinetRangeFilter):
    """From one local moment to another; a day alone runs from its start or to its end."""

    form_class = MomentRangeForm

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(
            **{
                f"{self.parameter_name}__{lookup}": moment
                for lookup, moment in self.bounds().items()
            }
        )
