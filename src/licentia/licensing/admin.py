from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter

from licentia.catalog.models import Feature, LicenseType
from licentia.core.admin import admin_extend
from licentia.core.admin_filters import DayRangeFilter
from licentia.core.audit import Actor
from licentia.keys.models import LicenseKey
from licentia.keys.selectors import key_license
from licentia.licensing.filters import SEAT_TYPE_CHOICES, MonitorFilter
from licentia.licensing.models import Problem, Session, TokenConsumption
from licentia.licensing.refusals import refusal_message
from licentia.licensing.selectors import MONITOR_LIMIT, key_usage, monitor_sessions
from licentia.licensing.services.sessions import session_reset

GROUP_TITLES = {
    LicenseType.USER: _("Sessions licensed per user"),
    LicenseType.HOST: _("Sessions licensed per host"),
    LicenseType.DATABASE: _("Sessions licensed per database"),
    LicenseType.PROCESS: _("Sessions licensed per process"),
}

# Cards link to lists filtered by their client or key.
CARD_LOOKUPS = ("key__id__exact", "key__client__id__exact")


class ReadOnlyAdmin(ModelAdmin):
    """Written by the protocol only: the cabinet reads."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in CARD_LOOKUPS or super().lookup_allowed(lookup, value, request)


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    """The session monitor (Монитор сессий): a page of its own instead of the list."""

    def get_urls(self) -> list[Any]:
        reset = path(
            "<int:session_id>/reset/",
            self.admin_site.admin_view(self.reset_view),
            name="licensing_session_reset",
        )
        return [reset, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        moment = timezone.now()
        history = request.GET.get("tab") == "history"
        data = request.GET.copy()
        default_since = timezone.localtime(moment - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        if not history:
            data.pop("since", None)
        elif not data.get("since"):
            data["since"] = default_since
        monitor = MonitorFilter(data, queryset=monitor_sessions(history=history, moment=moment))
        found = monitor.qs
        if history and "since" in monitor.errors:
            found = found.filter(ended_at__gte=moment - timedelta(days=1))
        sessions = list(found[: MONITOR_LIMIT + 1])
        groups: list[dict[str, Any]] = []
        if history:
            groups.append({"title": _("Ended sessions"), "sessions": sessions[:MONITOR_LIMIT]})
        else:
            for license_type, title in GROUP_TITLES.items():
                rows = [s for s in sessions[:MONITOR_LIMIT] if s.license_type == license_type]
                if rows:
                    groups.append({"title": title, "sessions": rows})
        query = request.GET.copy()
        query.pop("tab", None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Session monitor"),
            "opts": self.model._meta,
            "groups": groups,
            "history": history,
            "since": default_since if "since" in monitor.errors else data.get("since", ""),
            "filters": {name: data.get(name, "") for name in MonitorFilter.base_filters},
            "filter_errors": [
                f"{monitor.form.fields[name].label}: {error}"
                for name, errors in monitor.errors.items()
                for error in errors
            ],
            "features": Feature.objects.all(),
            "types": SEAT_TYPE_CHOICES,
            "truncated": len(sessions) > MONITOR_LIMIT,
            "limit": MONITOR_LIMIT,
            "query": query.urlencode(),
            "can_reset": request.user.has_perm("licensing.change_session"),
            "count": min(len(sessions), MONITOR_LIMIT),
        }
        return TemplateResponse(request, "licensing/monitor.html", context)

    def reset_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm("licensing.change_session"):
            raise PermissionDenied
        session = get_object_or_404(Session, pk=session_id)
        session_reset(session=session, actor=Actor.from_request(request))
        messages.success(request, _("The seat of %(unit)s is free.") % {"unit": session.unit})
        back = request.POST.get("next", "")
        monitor = reverse("admin:licensing_session_changelist")
        return HttpResponseRedirect(back if back.startswith(monitor) else monitor)


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = (
        "last_at",
        "key_number",
        "client",
        "feature_id",
        "unit",
        "code",
        "meaning",
        "count",
        "first_at",
    )
    list_select_related = ("key__client",)
    list_filter = ("code", ("day", RangeDateFilter))
    list_filter_submit = True
    search_fields = ("key_number", "unit", "key__client__company")

    @admin.display(description=_("client"))
    def client(self, obj: Problem) -> str:
        return obj.key.client.company if obj.key else "—"

    @admin.display(description=_("meaning"))
    def meaning(self, obj: Problem) -> str:
        return refusal_message(obj.code)


@admin.register(TokenConsumption)
class TokenConsumptionAdmin(ReadOnlyAdmin):
    """The token ledger (Расход токенов)."""

    list_display = ("created_at", "key", "client", "feature", "amount", "comment", "balance_after")
    list_select_related = ("key__client", "feature")
    list_filter = (("created_at", DayRangeFilter), "feature")
    list_filter_submit = True
    search_fields = ("key__number", "comment", "key__client__company")

    @admin.display(description=_("client"))
    def client(self, obj: TokenConsumption) -> str:
        return obj.key.client.company


class KeyCardUsage:
    """The key card's license summary under its products: per feature and type the seats or
    tokens in all, in use and free (keys know nothing of sessions)."""

    @admin.display(description="")
    def lines_display(self, obj: LicenseKey) -> str:
        now = timezone.now()
        summary = render_to_string(
            "licensing/key_summary.html", {"summary": key_usage(key_license(obj, now), now)}
        )
        return format_html("{}{}", super().lines_display(obj), summary)  # type: ignore[misc]


admin_extend(LicenseKey, KeyCardUsage)
