"""The statistics pages of the vendor cabinet (Статистика) and the metric settings."""

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.forms import Form, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licentia.core.admin import SingletonAdmin, cabinet_page
from licentia.core.audit import Actor
from licentia.core.tables import FORMATS, table_response
from licentia.statistics import selectors
from licentia.statistics.forms import (
    ConnectionsForm,
    ConversionsForm,
    FeaturesForm,
    PivotForm,
    TrialsForm,
)
from licentia.statistics.models import IgnoredMetric, MetricSettings
from licentia.statistics.services import metric_settings_get, metric_settings_update

VIEW_STATISTICS = "statistics.view_statistics"
PAGE = "statistics/page.html"
# The pages in the order of the menu: url name, route, title.
PAGES = [
    ("statistics_trials", "trials/", gettext_lazy("New trials")),
    ("statistics_features", "features/", gettext_lazy("Features")),
    ("statistics_conversions", "conversions/", gettext_lazy("Conversions")),
    ("statistics_products", "products/", gettext_lazy("Products")),
    ("statistics_distributors", "distributors/", gettext_lazy("Distributors")),
    ("statistics_connections", "connections/", gettext_lazy("Connections")),
    ("statistics_pivot", "pivot/", gettext_lazy("Metrics analysis")),
]


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
        views = {
            "statistics_trials": self.trials_view,
            "statistics_features": self.features_view,
            "statistics_conversions": self.conversions_view,
            "statistics_products": self.products_view,
            "statistics_distributors": self.distributors_view,
            "statistics_connections": self.connections_view,
            "statistics_pivot": self.pivot_view,
        }
        return [
            *(
                path(route, self.admin_site.admin_view(views[name]), name=name)
                for name, route, _title in PAGES
            ),
            *super().get_urls(),
        ]

    def _page(
        self,
        request: HttpRequest,
        *,
        name: str,
        form: Form,
        headers: list[str],
        rows: list[list[Any]],
        chart: str = "",
        chart_type: str = "line",
        **context: Any,
    ) -> HttpResponse:
        title = next(str(title) for page, _route, title in PAGES if page == name)
        export = request.GET.get("export")
        if export in FORMATS and form.is_valid():
            stamp = timezone.localdate().isoformat()
            return table_response(
                filename=f"{name}-{stamp}", headers=headers, rows=rows, file_format=export
            )
        query = request.GET.copy()
        query.pop("export", None)
        return cabinet_page(
            self,
            request,
            PAGE,
            title=title,
            page_name=name,
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            chart_type=chart_type,
            query=query.urlencode(),
            pages=[(reverse(f"admin:{page}"), label, page == name) for page, _r, label in PAGES],
            **context,
        )

    def _allowed(self, request: HttpRequest) -> None:
        if not request.user.has_perm(VIEW_STATISTICS):
            raise PermissionDenied

    def trials_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = TrialsForm(request.GET or None)
        headers: list[str] = []
        rows: list[list[Any]] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
            series = selectors.trials_series(
                first=cleaned["first"],
                last=cleaned["last"],
                period=cleaned.get("period") or "day",
                product_ids=cleaned.get("products") or [],
            )
            headers, rows = series.table()
            headers[0] = _("period")
            chart = _chart(series)
        return self._page(
            request,
            name="statistics_trials",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            chart_type="bar",
        )

    def features_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = FeaturesForm(request.GET or None)
        headers: list[str] = []
        rows: list[list[Any]] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
            month = (cleaned.get("month") or timezone.localdate()).replace(day=1)
            series = selectors.feature_users_series(last_month=month)
            headers, rows = series.table()
            headers[0] = _("month")
            chart = _chart(series)
        return self._page(
            request,
            name="statistics_features",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            intro=_("Distinct users (units of the keys) with a session of the feature a month."),
        )

    def connections_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = ConnectionsForm(request.GET or None)
        headers: list[str] = []
        rows: list[list[Any]] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
            series = selectors.connections_series(
                first=cleaned["first"], last=cleaned["last"], feature_id=cleaned.get("feature") or 0
            )
            headers, rows = series.table()
            headers[0] = _("day")
            chart = _chart(series)
        return self._page(
            request,
            name="statistics_connections",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
        )

    def conversions_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = ConversionsForm(request.GET or None)
        headers = [_("trial month"), _("product"), _("trials"), _("purchased"), _("share, %")]
        rows: list[list[Any]] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
            cohorts = selectors.conversion_cohorts(
                first=cleaned["first"],
                last=cleaned["last"],
                within_days=cleaned.get("within_days") or 30,
                product_ids=cleaned.get("products") or [],
            )
            rows = [
                [
                    cohort.month.strftime("%Y-%m"),
                    cohort.product,
                    cohort.trials,
                    cohort.converted,
                    cohort.share,
                ]
                for cohort in cohorts
            ]
            chart = _chart(_share_series(cohorts))
        return self._page(
            request,
            name="statistics_conversions",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            chart_type="bar",
        )

    def products_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = ConnectionsForm(request.GET or None)
        form.fields.pop("feature")
        headers = [_("product"), _("coupon kind"), _("codes generated"), _("activations")]
        rows: list[list[Any]] = []
        batches: list[Any] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
            rows = [
                list(row)
                for row in selectors.coupon_products(first=cleaned["first"], last=cleaned["last"])
            ]
            batches = selectors.top_batches(first=cleaned["first"], last=cleaned["last"])
            chart = _chart(
                selectors.Series(
                    [f"{row[0]} · {row[1]}" for row in rows],
                    [(_("activations"), [row[3] for row in rows])],
                )
            )
        return self._page(
            request,
            name="statistics_products",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            chart_type="bar",
            batches=batches,
        )

    def distributors_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = ConnectionsForm(request.GET or None)
        form.fields.pop("feature")
        headers = [_("distributor"), _("codes generated"), _("activations"), _("clients' seats")]
        rows: list[list[Any]] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
            rows = [
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
        return self._page(
            request,
            name="statistics_distributors",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            chart_type="bar",
        )

    def pivot_view(self, request: HttpRequest) -> HttpResponse:
        self._allowed(request)
        form = PivotForm(request.GET or None)
        headers: list[str] = []
        rows: list[list[Any]] = []
        chart = ""
        cleaned = _cleaned(form)
        if cleaned is not None:
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
                    result.columns,
                    [(label, values) for label, values, _total in result.rows[:10]],
                )
            )
        return self._page(
            request,
            name="statistics_pivot",
            form=form,
            headers=headers,
            rows=rows,
            chart=chart,
            chart_type="bar",
            sortable=True,
        )


def _cleaned(form: Form) -> dict[str, Any] | None:
    """The filters, the defaults when none were given; None when they are invalid."""
    if form.is_bound:
        return form.cleaned_data if form.is_valid() else None
    probe = type(form)({})
    return probe.cleaned_data if probe.is_valid() else None


def _share_series(cohorts: list[selectors.Cohort]) -> selectors.Series:
    months = sorted({cohort.month for cohort in cohorts})
    products = sorted({cohort.product for cohort in cohorts})
    index = {month: position for position, month in enumerate(months)}
    series = selectors.Series([month.strftime("%Y-%m") for month in months])
    for product in products:
        values: list[Any] = [0] * len(months)
        for cohort in cohorts:
            if cohort.product == product:
                values[index[cohort.month]] = cohort.share
        series.lines.append((product, values))
    return series
