from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from licentia.catalog.models import Feature, LicenseType
from licentia.clients.models import Client
from licentia.core.admin import admin_extend, cabinet_page
from licentia.core.admin_filters import DayRangeFilter
from licentia.core.audit import Actor
from licentia.core.normalize import row_id
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
        filters = {name: data.get(name, "") for name in MonitorFilter.base_filters}
        scope_client, scope_key = self._card_scope(filters)
        # A card links here by ids; the filter shows the company and the key instead.
        if scope_key is not None and row_id(filters["key"]) is not None:
            filters["key"] = scope_key.number
        if scope_client is not None and row_id(filters["client"]) is not None:
            filters["client"] = scope_client.company
        context = {
            **self.admin_site.each_context(request),
            "title": _("Session monitor"),
            # Without opts the header names the page as the menu does, not «Лицензирование ›
            # Сессии».
            "content_title": _("Session monitor"),
            "groups": groups,
            "history": history,
            "since": default_since if "since" in monitor.errors else data.get("since", ""),
            "filters": filters,
            "filtered": any(value for name, value in filters.items()),
            "scope_client": scope_client,
            "scope_key": scope_key,
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

    @staticmethod
    def _card_scope(filters: dict[str, str]) -> tuple[Client | None, LicenseKey | None]:
        """The client and the key the monitor was opened for from a card (by id)."""
        key = None
        key_id = row_id(filters.get("key", ""))
        if key_id is not None:
            key = LicenseKey.objects.select_related("client").filter(pk=key_id).first()
        client = key.client if key is not None else None
        client_id = row_id(filters.get("client", ""))
        if client_id is not None:
            client = Client.objects.filter(pk=client_id).first()
        return client, key

    def reset_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        if not request.user.has_perm("licensing.change_session"):
            raise PermissionDenied
        session = get_object_or_404(Session.objects.select_related("feature", "key"), pk=session_id)
        monitor = reverse("admin:licensing_session_changelist")
        back = request.POST.get("next") or request.GET.get("next") or ""
        back = back if back.startswith(monitor) else monitor
        if request.method != "POST":
            # Resetting frees a seat someone may be using: a link only asks first.
            return cabinet_page(
                self,
                request,
                title=_("Reset the session"),
                intro=_(
                    "The seat of %(unit)s for the feature %(feature)s on the key %(key)s will "
                    "be freed; the application there loses it at its next heartbeat."
                )
                % {
                    "unit": session.unit,
                    "feature": f"{session.feature.name} ({session.feature_id})",
                    "key": session.key.number,
                },
                submit_label=_("Reset"),
                cancel_url=back,
                hidden={"next": back},
            )
        session_reset(session=session, actor=Actor.from_request(request))
        messages.success(request, _("The seat of %(unit)s is free.") % {"unit": session.unit})
        return HttpResponseRedirect(back)


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = (
        "last_at",
        "key_number",
        "client",
        "feature_display",
        "unit",
        "refusal",
        "count",
        "first_at",
    )
    list_select_related = ("key__client",)
    list_filter = ("code", ("day", DayRangeFilter))
    list_filter_submit = True
    search_fields = ("key_number", "unit", "key__client__company")

    @admin.display(description=_("client"))
    def client(self, obj: Problem) -> str:
        return obj.key.client.company if obj.key else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Problem]:
        # Problems keep the feature id the application asked for, which may name no feature.
        names = Feature.objects.filter(id=OuterRef("feature_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                feature_name_ru=Subquery(names.values("name_ru")[:1]),
                feature_name_en=Subquery(names.values("name_en")[:1]),
            )
        )

    @admin.display(description=_("feature"), ordering="feature_id")
    def feature_display(self, obj: Problem) -> str:
        name = getattr(obj, "feature_name_ru", None)
        if get_language() == "en":
            name = getattr(obj, "feature_name_en", None) or name
        return f"{name} ({obj.feature_id})" if name else str(obj.feature_id)

    @admin.display(description=_("refusal"), ordering="code")
    def refusal(self, obj: Problem) -> str:
        return f"{refusal_message(obj.code)} ({obj.code})"


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
