from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from licentia.api.models import ApiKey
from licentia.api.services import api_key_create, api_key_revoke
from licentia.core.audit import Actor

CALLS_WINDOW_DAYS = 30


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    list_display = (
        "name",
        "role",
        "created_by",
        "created_at",
        "last_used_at",
        "calls_30_days",
        "revoked_at",
    )
    list_filter = ("role",)
    search_fields = ("name",)
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        since = timezone.now().date() - timedelta(days=CALLS_WINDOW_DAYS - 1)
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(calls_recent=Coalesce(Sum("days__calls", filter=Q(days__day__gte=since)), 0))
        )

    @admin.display(description=_("calls in the last 30 days"), ordering="calls_recent")
    def calls_30_days(self, obj: ApiKey) -> int:
        return int(getattr(obj, "calls_recent", 0))

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ("name", "role")
        return ("name", "role", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ()
        return ("name", "role", "created_by", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A key is revoked, never deleted: the audit keeps what it did.
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        if change:
            return
        assert isinstance(obj, ApiKey)
        new = api_key_create(name=obj.name, role=obj.role, actor=Actor.from_request(request))
        obj.pk = new.key.pk
        obj.created_at = new.key.created_at
        messages.warning(
            request,
            _(
                "The key is made. Copy it now, it is shown only once: "
                "Authorization: Bearer %(token)s"
            )
            % {"token": new.token},
        )

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        return None

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        # The service wrote the audit event; Django's own log entry adds nothing.
        return None

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = Actor.from_request(request)
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key, actor=actor)
        messages.success(request, _("The selected keys are revoked."))
