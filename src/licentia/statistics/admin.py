"""The statistics pages of the vendor cabinet (Статистика) and the metric settings."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.forms import Form, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licentia.core.admin import SingletonAdmin, cabinet_page
from licentia.core.audit import Actor
from licentia.core.tables import FORMATS, table_response
from licentia.statistics import selectors
from licentia.statistics.forms import (
    ConnectionsForm,
    ConversionsForm,
    CouponsForm,
    FeaturesForm,
    PivotForm,
    TrialsForm,
)
from licentia.statistics.models import IgnoredMetric, MetricSettings
from licentia.statistics.services import metric_settings_get, metric_settings_update

VIEW_STATISTICS = "statistics.view_statistics"
PAGE = "statistics/page.html"
# The second table a page may show and export (?table=batches).
BATCHES = "batches"


@dataclass
class Shown:
    """What a page shows for its filters: the table, the chart and what else its template
    takes; `tables` are further tables it exports by name."""

    headers: list[str]
    rows: list[list[Any]]
    chart: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)


@dataclass
class StatisticsPage:
    """A page of the menu: its url name and route, its title, its filters, and what it shows
    for valid filters (`show`) or before them (`headers`)."""

    name: str
    route: str
    title: Promise
    form: type[Form]
    show: Callable[[dict[str, Any]], Shown]
    headers: Callable[[], list[str]] = list
    chart_type: str = "line"
    intro: Promise | None = None
    sortable: bool = False


def _chart(series: selectors.Series) -> str:
    return json.dumps(series.chart(), cls=DjangoJSONEncoder)


@admin.register(MetricSettings)
class MetricSettingsAdmin(SingletonAdmin):
    fields = ("accepted_names", "ignored")
    readonly_fields = ("ignored",)

    def singleton(self) -> MetricSettings:
        return metric_settings_get()

    @admin.display(description=gettext_lazy("ignored metrics"))
    def ignored(self, obj: MetricSettings) -> str:
        rows = IgnoredMetric.objects.all()[:50]
        return (
            ", ".join(
                f"{row.name}: {row.count} ({timezone.localtime(row.last_at):%Y-%m-%d})"
                for row in rows
            )
            or "—"
        )

    def save_model(
        self, request: HttpRequest, obj: MetricSettings, form: ModelForm, change: bool
    ) -> None:
        metric_settings_update(accepted_names=obj.accepted_names, actor=Actor.from_request(request))
        messages.success(request, _("Metric settings saved."))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        return None

    def response_change(self, request: HttpRequest, obj: Model) -> HttpResponse:
        return HttpResponseRedirect(request.path)

    def get_urls(self) -> list[Any]:
        return [
            *(
                path(
                    page.route,
                    self.admin_site.admin_view(self._view(page)),
                    name=page.name,
                )
                for page in PAGES
            ),
            *super().get_urls(),
        ]

    def _view(self, page: StatisticsPage) -> Callable[[HttpRequest], HttpResponse]:
        def view(request: HttpRequest) -> HttpResponse:
            return self._page(request, page)

        return view

    def _page(self, request: HttpRequest, page: StatisticsPage) -> HttpResponse:
        self._allowed(request)
        form = page.form(request.GET or None)
        cleaned = _cleaned(form)
        shown = page.show(cleaned) if cleaned is not None else Shown(page.headers(), [])
        export = request.GET.get("export")
        if export in FORMATS and form.is_valid():
            stamp = timezone.localdate().isoformat()
            table = request.GET.get("table", "")
            headers, rows = shown.tables.get(table, (shown.headers, shown.rows))
            suffix = f"-{table}" if table in shown.tables else ""
            return table_response(
                filename=f"{page.name}{suffix}-{stamp}",
                headers=headers,
                rows=rows,
                file_format=export,
            )
        query = request.GET.copy()
        query.pop("export", None)
        query.pop("table", None)
        extra: dict[str, Any] = {"intro": page.intro} if page.intro else {}
        if page.sortable:
            extra["sortable"] = True
        return cabinet_page(
            self,
            request,
            PAGE,
            title=str(page.title),
            page_name=page.name,
            form=form,
            headers=shown.headers,
            rows=shown.rows,
            chart=shown.chart,
            chart_type=page.chart_type,
            query=query.urlencode(),
            pages=[
                (reverse(f"admin:{other.name}"), other.title, other.name == page.name)
                for other in PAGES
            ],
            **extra,
            **shown.context,
        )

    def _allowed(self, request: HttpRequest) -> None:
        if not request.user.has_perm(VIEW_STATISTICS):
            raise PermissionDenied


def _cleaned(form: Form) -> dict[str, Any] | None:
    """The filters, the defaults when none were given; None when they are invalid."""
    if form.is_bound:
        return form.cleaned_data if form.is_valid() else None
    probe = type(form)({})
    return probe.cleaned_data if probe.is_valid() else None


def _cohort_label(cohort: selectors.Cohort) -> str:
    return f"{cohort.product} · {cohort.feature}" if cohort.feature else cohort.product


def _share_series(cohorts: list[selectors.Cohort]) -> selectors.Series:
    months = sorted({cohort.month for cohort in cohorts})
    labels = sorted({_cohort_label(cohort) for cohort in cohorts})
    index = {month: position for position, month in enumerate(months)}
    series = selectors.Series([month.strftime("%Y-%m") for month in months])
    for label in labels:
        values: list[Any] = [0] * len(months)
        for cohort in cohorts:
            if _cohort_label(cohort) == label:
                values[index[cohort.month]] = cohort.share
        series.lines.append((label, values))
    return series


def _series_shown(series: selectors.Series, first_header: str) -> Shown:
    headers, rows = series.table()
    headers[0] = first_header
    return Shown(headers, rows, _chart(series))


def _trials(cleaned: dict[str, Any]) -> Shown:
    series = selectors.trials_series(
        first=cleaned["first"],
        last=cleaned["last"],
        period=cleaned.get("period") or "day",
        product_ids=cleaned.get("products") or [],
    )
    return _series_shown(series, _("period"))


def _features(cleaned: dict[str, Any]) -> Shown:
    month = (cleaned.get("month") or timezone.localdate()).replace(day=1)
    return _series_shown(selectors.feature_users_series(last_month=month), _("month"))


def _connections(cleaned: dict[str, Any]) -> Shown:
    series = selectors.connections_series(
        first=cleaned["first"], last=cleaned["last"], feature_id=cleaned.get("feature") or 0
    )
    return _series_shown(series, _("day"))


def _conversion_headers(*, per_feature: bool = False) -> list[str]:
    return [
        _("trial month"),
        _("product"),
        *([_("feature")] if per_feature else []),
        _("trials"),
        _("purchased"),
        _("share, %"),
    ]


def _conversions(cleaned: dict[str, Any]) -> Shown:
    per_feature = bool(cleaned.get("per_feature"))
    cohorts = selectors.conversion_cohorts(
        first=cleaned["first"],
        last=cleaned["last"],
        within_days=cleaned.get("within_days") or 30,
        product_ids=cleaned.get("products") or [],
        per_feature=per_feature,
    )
    rows = [
        [
            cohort.month.strftime("%Y-%m"),
            cohort.product,
            *([cohort.feature] if per_feature else []),
            cohort.trials,
            cohort.converted,
            cohort.share,
        ]
        for cohort in cohorts
    ]
    return Shown(_conversion_headers(per_feature=per_feature), rows, _chart(_share_series(cohorts)))


def _products_headers() -> list[str]:
    return [_("product"), _("coupon kind"), _("codes generated"), _("activations")]


def _products(cleaned: dict[str, Any]) -> Shown:
    rows: list[list[Any]] = [
        list(row) for row in selectors.coupon_products(first=cleaned["first"], last=cleaned["last"])
    ]
    batches = selectors.top_batches(first=cleaned["first"], last=cleaned["last"])
    chart = _chart(
        selectors.Series(
            [f"{row[0]} · {row[1]}" for row in rows],
            [(_("activations"), [row[3] for row in rows])],
        )
    )
    batch_rows = [
        [str(batch), str(batch.distributor or "—"), generated, activated]
        for batch, generated, activated in batches
    ]
    return Shown(
        _products_headers(),
        rows,
        chart,
        context={"batches": batches, "batches_table": BATCHES},
        tables={
            BATCHES: (
                [_("batch"), _("distributor"), _("codes generated"), _("activations")],
                batch_rows,
            )
        },
    )


def _distributors_headers() -> list[str]:
    return [_("distributor"), _("codes generated"), _("activations"), _("clients' seats")]


def _distributors(cleaned: dict[str, Any]) -> Shown:
    rows: list[list[Any]] = [
        list(row)
        for row in selectors.distributor_ranking(
            first=cleaned["first"], last=cleaned["last"], today=timezone.localdate()
        )
    ]
    chart = _chart(
        selectors.Series(
            [row[0] for row in rows],
            [
                (_("codes generated"), [row[1] for row in rows]),
                (_("activations"), [row[2] for row in rows]),
            ],
        )
    )
    return Shown(_distributors_headers(), rows, chart)


def _refusals_headers() -> list[str]:
    return [_("code"), _("reason"), _("refusals")]


def _refusals(cleaned: dict[str, Any]) -> Shown:
    found = selectors.refusals_by_reason(
        first=cleaned["first"], last=cleaned["last"], feature_id=cleaned.get("feature") or 0
    )
    chart = _chart(
        selectors.Series(
            [str(row.code) for row in found], [(_("refusals"), [row.refusals for row in found])]
        )
    )
    return Shown(
        _refusals_headers(), [[row.code, row.reason, row.refusals] for row in found], chart
    )


def _pivot(cleaned: dict[str, Any]) -> Shown:
    result = selectors.pivot(
        row=cleaned["rows"],
        column=cleaned["columns"],
        measure=cleaned["measure"],
        filters=cleaned["filters"],
        first=cleaned["first"],
        last=cleaned["last"],
        sort=cleaned.get("sort") or "",
        descending=bool(cleaned.get("descending")),
    )
    headers, rows = result.table()
    chart = _chart(
        selectors.Series(
            result.columns, [(label, values) for label, values, _total in result.rows[:10]]
        )
    )
    return Shown(headers, rows, chart)


# The pages in the order of the menu.
PAGES = [
    StatisticsPage(
        "statistics_trials",
        "trials/",
        gettext_lazy("New trials"),
        TrialsForm,
        _trials,
        chart_type="bar",
    ),
    StatisticsPage(
        "statistics_features",
        "features/",
        gettext_lazy("Features"),
        FeaturesForm,
        _features,
        intro=gettext_lazy(
            "Distinct users (units of the keys) with a session of the feature a month."
        ),
    ),
    StatisticsPage(
        "statistics_conversions",
        "conversions/",
        gettext_lazy("Conversions"),
        ConversionsForm,
        _conversions,
        headers=_conversion_headers,
        chart_type="bar",
        intro=gettext_lazy(
            "Trials of the whole months from the first day's to the last day's, and how many "
            "of them were bought within the days asked."
        ),
    ),
    StatisticsPage(
        "statistics_products",
        "products/",
        gettext_lazy("Products"),
        CouponsForm,
        _products,
        headers=_products_headers,
        chart_type="bar",
    ),
    StatisticsPage(
        "statistics_distributors",
        "distributors/",
        gettext_lazy("Distributors"),
        CouponsForm,
        _distributors,
        headers=_distributors_headers,
        chart_type="bar",
    ),
    StatisticsPage(
        "statistics_connections",
        "connections/",
        gettext_lazy("Connections"),
        ConnectionsForm,
        _connections,
    ),
    StatisticsPage(
        "statistics_refusals",
        "refusals/",
        gettext_lazy("Refusals"),
        ConnectionsForm,
        _refusals,
        headers=_refusals_headers,
        chart_type="bar",
        intro=gettext_lazy("Refused captures per reason, of all features or of one."),
    ),
    StatisticsPage(
        "statistics_pivot",
        "pivot/",
        gettext_lazy("Metrics analysis"),
        PivotForm,
        _pivot,
        chart_type="bar",
        intro=gettext_lazy("Whole months, from the first day's to the last day's."),
        sortable=True,
    ),
]
