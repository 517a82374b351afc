"""Отчеты: work lists for managers who do not script, on the selectors the vendor API's
compatible calls use (subscriptions to renew, new trials to call)."""

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import UnfoldAdminSelectWidget

from licentia.catalog.models import Product
from licentia.clients.models import Distributor
from licentia.core.models import User
from licentia.core.moments import DayField
from licentia.core.tables import FORMATS, table_response
from licentia.keys.models import KeyLine
from licentia.keys.selectors import lines_ending
from licentia.licensing.selectors import trial_app_versions, trial_lines

PAGE_ROWS = 500
EXPORT_ROWS = 50_000
PERMISSION = "keys.view_keyline"


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class PeriodForm(forms.Form):
    date_from = DayField(label=gettext_lazy("from"), required=False)
    date_to = DayField(label=gettext_lazy("to"), required=False)

    default_days: tuple[int, int] = (0, 30)

    def period(self) -> tuple[date, date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        first = data.get("date_from") or today + timedelta(days=self.default_days[0])
        last = data.get("date_to") or today + timedelta(days=self.default_days[1])
        return first, max(first, last)


class ExpiringForm(PeriodForm):
    trials = forms.BooleanField(label=gettext_lazy("with trials"), required=False)
    manager = forms.ModelChoiceField(
        label=gettext_lazy("responsible manager"),
        queryset=User.objects.filter(is_staff=True, is_active=True).order_by("username"),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    distributor = forms.ModelChoiceField(
        label=gettext_lazy("distributor"),
        queryset=Distributor.objects.all(),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )


class TrialsForm(PeriodForm):
    default_days = (-7, 0)
    product = forms.ModelChoiceField(
        label=gettext_lazy("product"),
        queryset=Product.objects.all().order_by("id"),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )


def _manager(line: KeyLine) -> str:
    manager = line.key.client.manager
    return (manager.get_full_name() or manager.get_username()) if manager else ""


def expiring_rows(form: ExpiringForm) -> tuple[list[str], Callable[[int], list[KeyLine]]]:
    first, last = form.period()
    data = form.cleaned_data if form.is_valid() else {}
    lines = lines_ending(
        start=_start(first),
        end=_start(last + timedelta(days=1)),
        trials=bool(data.get("trials")),
        manager_id=data["manager"].pk if data.get("manager") else None,
        distributor_id=data["distributor"].pk if data.get("distributor") else None,
    )
    headers = [
        _("Expiry"),
        _("License key"),
        _("Company"),
        _("Contact"),
        _("E-mail"),
        _("Phone"),
        _("Product"),
        _("Trial"),
        _("CRM ID1"),
        _("CRM ID2"),
        _("Distributor"),
        _("Responsible manager"),
    ]
    return headers, lambda limit: list(lines[:limit])


def expiring_cells(line: KeyLine) -> list[Any]:
    client = line.key.client
    return [
        line.expires_at,
        line.key.number,
        client.company,
        client.contact,
        client.email,
        client.phone,
        line.product.name,
        _("yes") if line.is_trial else "",
        client.crm_id1,
        client.crm_id2,
        client.distributor.name if client.distributor else "",
        _manager(line),
    ]


def trials_rows(form: TrialsForm) -> tuple[list[str], Callable[[int], list[KeyLine]]]:
    first, last = form.period()
    data = form.cleaned_data if form.is_valid() else {}
    lines = trial_lines(
        start=_start(first),
        end=_start(last + timedelta(days=1)),
        product_id=data["product"].pk if data.get("product") else None,
    ).order_by("-id")
    headers = [
        _("Taken"),
        _("License key"),
        _("Company"),
        _("Contact"),
        _("E-mail"),
        _("Phone"),
        _("Product"),
        _("INN"),
        _("Application version"),
    ]
    return headers, lambda limit: list(lines[:limit])


def trials_cells(line: KeyLine, versions: dict[int, str]) -> list[Any]:
    client = line.key.client
    return [
        line.created_at,
        line.key.number,
        client.company,
        client.contact,
        client.email,
        client.phone,
        line.product.name,
        client.crm_id1,
        versions.get(line.pk, ""),
    ]


def _page(
    request: HttpRequest,
    *,
    title: str,
    filename: str,
    form: forms.Form,
    headers: Sequence[str],
    fetch: Callable[[int], list[KeyLine]],
    cells: Callable[[list[KeyLine]], Iterable[tuple[KeyLine, list[Any]]]],
) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    export = request.GET.get("export", "")
    if export in FORMATS:
        lines = fetch(EXPORT_ROWS)
        return table_response(
            filename=filename,
            headers=headers,
            rows=(row for _line, row in cells(lines)),
            file_format=export,
        )
    lines = fetch(PAGE_ROWS + 1)
    query = request.GET.copy()
    query.pop("export", None)
    rows = [
        {"url": reverse("admin:keys_licensekey_change", args=[line.key_id]), "cells": row}
        for line, row in cells(lines[:PAGE_ROWS])
    ]
    return TemplateResponse(
        request,
        "cabinet/report.html",
        {
            **admin.site.each_context(request),
            "title": title,
            "form": form,
            "headers": headers,
            "rows": rows,
            "truncated": len(lines) > PAGE_ROWS,
            "page_rows": PAGE_ROWS,
            "query": query.urlencode(),
        },
    )


def expiring_subscriptions_view(request: HttpRequest) -> HttpResponse:
    form = ExpiringForm(request.GET or None)
    headers, fetch = expiring_rows(form)
    return _page(
        request,
        title=_("Expiring subscriptions"),
        filename="expiring-subscriptions",
        form=form,
        headers=headers,
        fetch=fetch,
        cells=lambda lines: ((line, expiring_cells(line)) for line in lines),
    )


def new_trials_view(request: HttpRequest) -> HttpResponse:
    form = TrialsForm(request.GET or None)
    headers, fetch = trials_rows(form)

    def cells(lines: list[KeyLine]) -> Iterable[tuple[KeyLine, list[Any]]]:
        versions = trial_app_versions(lines)
        return ((line, trials_cells(line, versions)) for line in lines)

    return _page(
        request,
        title=_("New trials"),
        filename="new-trials",
        form=form,
        headers=headers,
        fetch=fetch,
        cells=cells,
    )
