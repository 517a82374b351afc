"""Dates and moments as the cabinet takes them: «15.03.2025», or «15.03.2025 14:05», typed or
picked from a calendar, in the vendor's time zone (TIME_ZONE).

One text box holds the date and an optional time. A date alone is the start of that day, or for
an end (expiry, validity) the whole day: it ends at 23:59:59.999999. The boxes carry none of the
admin's calendar classes, so the admin's script never adds its time-zone note to them: the
moments are the vendor's, whatever the manager's computer says."""

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import INPUT_CLASSES

DAY_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")
MOMENT_FORMATS = (
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)
LAST_INSTANT = time(23, 59, 59, 999999)
# Years a manager means: outside them a typo, and year 1 or 9999 would overflow on conversion.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def vendor_zone() -> Any:
    return timezone.get_default_timezone()


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), vendor_zone())


def day_end(day: date) -> datetime:
    """The last instant of the vendor's day: an end given as a date holds through that day."""
    return timezone.make_aware(datetime.combine(day, LAST_INSTANT), vendor_zone())


def this_minute() -> datetime:
    """Now, to the minute: a start proposed in a form, which the box shows without seconds."""
    return timezone.localtime(timezone.now(), vendor_zone()).replace(second=0, microsecond=0)


def _compact(text: str) -> str:
    return " ".join(text.replace(",", " ").split())


def parse_day(text: str) -> date | None:
    for layout in DAY_FORMATS:
        try:
            return datetime.strptime(_compact(text), layout).date()
        except ValueError:
            continue
    return None


def parse_moment(text: str) -> datetime | None:
    """A date with a time, naive (the caller places it in the vendor's zone)."""
    for layout in MOMENT_FORMATS:
        try:
            return datetime.strptime(_compact(text), layout)
        except ValueError:
            continue
    return None


def day_text(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def moment_text(moment: datetime, *, ends_day: bool = False) -> str:
    """How the box shows a stored moment: the date alone when the date alone gives it back."""
    local = timezone.localtime(moment, vendor_zone()) if timezone.is_aware(moment) else moment
    # Ends stored before the last instant was the rule held through the day's last second.
    bare = {LAST_INSTANT, time(23, 59, 59)} if ends_day else {time.min}
    if local.time() in bare:
        return day_text(local.date())
    shown = f"{day_text(local.date())} {local.hour:02d}:{local.minute:02d}"
    if local.second or local.microsecond:
        shown += f":{local.second:02d}"
    return shown


class MomentInput(forms.TextInput):
    """A text box with a calendar button; the button fills the date and keeps a typed time.
    Its script and styles (core/moments.js, .css) are on every page of the cabinet."""

    template_name = "core/widgets/moment.html"

    def __init__(self, *, with_time: bool = True, attrs: dict[str, Any] | None = None) -> None:
        placeholder = _("dd.mm.yyyy hh:mm") if with_time else _("dd.mm.yyyy")
        classes = " ".join([*INPUT_CLASSES, "lc-moment-input", "pr-9"])
        super().__init__(
            attrs={
                "class": classes,
                "placeholder": placeholder,
                "autocomplete": "off",
                **(attrs or {}),
            }
        )


def _check_year(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(
            _("Enter a year from %(first)d to %(last)d."),
            code="year",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )


class DayField(forms.DateField):
    """A date: «15.03.2025» (or 2025-03-15), typed or picked."""

    widget = MomentInput(with_time=False)
    input_formats = DAY_FORMATS
    default_error_messages = {"invalid": _("Enter a date as 15.03.2025.")}

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, str):
            value = _compact(value)
        day = super().to_python(value)
        if day is not None:
            _check_year(day)
        return day

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = parse_day(value) or value
        if isinstance(value, datetime):
            value = timezone.localtime(value, vendor_zone()).date()
        if isinstance(value, date):
            return day_text(value)
        return value


class MomentField(forms.Field):
    """A moment: «15.03.2025 14:05», or a date alone, which is the start of that day or, with
    ends_day, the end of it (23:59:59.999999), in the vendor's time zone."""

    default_error_messages = {
        "invalid": _("Enter a date as 15.03.2025, or a date and time as 15.03.2025 14:05."),
    }

    def __init__(self, *, ends_day: bool = False, **kwargs: Any) -> None:
        self.ends_day = ends_day
        kwargs.setdefault("widget", MomentInput(with_time=True))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else timezone.make_aware(value, vendor_zone())
        if isinstance(value, date):
            _check_year(value)
            return day_end(value) if self.ends_day else day_start(value)
        text = str(value).strip()
        day = parse_day(text)
        if day is not None:
            return self.to_python(day)
        moment = parse_moment(text)
        if moment is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        _check_year(moment.date())
        return timezone.make_aware(moment, vendor_zone())

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return moment_text(value, ends_day=self.ends_day)
        if isinstance(value, date):
            return day_text(value)
        return value
