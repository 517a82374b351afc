"""The filters of the statistics pages (read from the query string)."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from licentia.catalog.models import Feature, Product
from licentia.core.moments import DayField
from licentia.statistics.selectors import DIMENSIONS, MEASURES

# Longest span a page shows at once.
MAX_DAYS = 3 * 366


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


class PeriodForm(forms.Form):
    first = DayField(label=capfirst(_("first day")), required=False)
    last = DayField(label=capfirst(_("last day")), required=False)
    default_days = 90

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        last = cleaned.get("last") or yesterday()
        first = cleaned.get("first") or last - timedelta(days=self.default_days - 1)
        if first > last:
            self.add_error("first", _("The start is after the end."))
        elif (last - first).days > MAX_DAYS:
            self.add_error("first", _("At most three years at once."))
        cleaned["first"], cleaned["last"] = first, last
        return cleaned


def _product_choices() -> list[tuple[int, str]]:
    return [(product.pk, f"{product.pk} · {product.name}") for product in Product.objects.all()]


def _feature_choices() -> list[tuple[int, str]]:
    return [(feature.pk, f"{feature.pk} · {feature.name}") for feature in Feature.objects.all()]


class TrialsForm(PeriodForm):
    period = forms.ChoiceField(
        label=capfirst(_("by")),
        choices=[("day", _("day")), ("week", _("week")), ("month", _("month"))],
        initial="day",
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    products = forms.TypedMultipleChoiceField(
        label=capfirst(_("products")),
        coerce=int,
        required=False,
        help_text=_("Choose two or more to compare them; none: all products together."),
        widget=UnfoldAdminSelectMultipleWidget,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = _product_choices()  # type: ignore[attr-defined]


class ConnectionsForm(PeriodForm):
    default_days = 60
    feature = forms.TypedChoiceField(
        label=capfirst(_("feature")),
        coerce=int,
        required=False,
        empty_value=0,  # type: ignore[arg-type]
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["feature"].choices = [  # type: ignore[attr-defined]
            ("", _("All features")),
            *_feature_choices(),
        ]


class CouponsForm(PeriodForm):
    default_days = 60


class FeaturesForm(forms.Form):
    month = DayField(
        label=capfirst(_("last month")),
        required=False,
        help_text=_("Any day of it; empty: this month."),
    )


class ConversionsForm(PeriodForm):
    default_days = 365
    per_feature = forms.BooleanField(
        label=capfirst(_("per feature")),
        required=False,
        help_text=_("A trial of a product with the feature, bought in any product with it."),
    )
    within_days = forms.IntegerField(
        label=capfirst(_("purchase within, days")),
        min_value=1,
        max_value=3650,
        required=False,
        initial=30,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    products = forms.TypedMultipleChoiceField(
        label=capfirst(_("products")),
        coerce=int,
        required=False,
        widget=UnfoldAdminSelectMultipleWidget,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = _product_choices()  # type: ignore[attr-defined]


def _dimension_choices() -> list[tuple[str, Any]]:
    return [(name, capfirst(label)) for name, (_field, label) in DIMENSIONS.items()]


class PivotForm(PeriodForm):
    default_days = 365
    rows = forms.ChoiceField(
        label=capfirst(_("rows")),
        choices=_dimension_choices,
        initial="configuration",
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    columns = forms.ChoiceField(
        label=capfirst(_("columns")),
        choices=_dimension_choices,
        initial="month",
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    measure = forms.ChoiceField(
        label=capfirst(_("figure")),
        choices=[(name, capfirst(label)) for name, label in MEASURES.items()],
        initial="keys",
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)
    descending = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (_field, label) in DIMENSIONS.items():
            if name == "product":
                self.fields[f"f_{name}"] = forms.TypedChoiceField(
                    label=capfirst(_("filter: %(what)s") % {"what": label}),
                    coerce=int,
                    required=False,
                    empty_value=None,
                    choices=[("", "—"), *_product_choices()],
                    widget=UnfoldAdminSelectWidget,
                )
            else:
                self.fields[f"f_{name}"] = forms.CharField(
                    label=capfirst(_("filter: %(what)s") % {"what": label}),
                    required=False,
                    max_length=300,
                    widget=UnfoldAdminTextInputWidget,
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["rows"] = cleaned.get("rows") or "configuration"
        cleaned["columns"] = cleaned.get("columns") or "month"
        cleaned["measure"] = cleaned.get("measure") or "keys"
        cleaned["filters"] = {
            name: str(cleaned[f"f_{name}"])
            for name in DIMENSIONS
            if cleaned.get(f"f_{name}") not in (None, "")
        }
        if cleaned["filters"].get("month"):
            try:
                year, month = (int(part) for part in cleaned["filters"]["month"].split("-")[:2])
                date(year, month, 1)
            except ValueError:
                self.add_error("f_month", _("A month as YYYY-MM."))
        if cleaned["filters"].get("feature") and not cleaned["filters"]["feature"].isdigit():
            self.add_error("f_feature", _("A feature id."))
        return cleaned
