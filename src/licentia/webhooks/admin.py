from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminTextInputWidget

from licentia.core.audit import Actor
from licentia.webhooks.models import Event, Webhook, WebhookDelivery
from licentia.webhooks.services import (
    delivery_replay,
    webhook_create,
    webhook_secret,
    webhook_update,
)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", widget=UnfoldAdminTextInputWidget
    )
    events = forms.MultipleChoiceField(
        label=_("events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("secret"),
        required=False,
        max_length=200,
        widget=UnfoldAdminTextInputWidget,
        help_text=_(
            "Signs every delivery (HMAC-SHA256). Empty: a new webhook gets a random one, a "
            "saved one keeps its own."
        ),
    )

    class Meta:
        model = Webhook
        fields = ("url", "events", "secret", "active", "comment")


@admin.register(Webhook)
class WebhookAdmin(ModelAdmin):
    form = WebhookForm
    list_display = ("url", "events_display", "active", "created_at")
    readonly_fields = ("secret_display",)

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = ["url", "events", "secret", "active", "comment"]
        return [*fields, "secret_display"] if obj is not None else fields

    @admin.display(description=_("events"))
    def events_display(self, obj: Webhook) -> str:
        return ", ".join(obj.events)

    @admin.display(description=_("current secret"))
    def secret_display(self, obj: Webhook) -> str:
        return webhook_secret(obj) if obj.secret_sealed else ""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        assert isinstance(obj, Webhook)
        data = form.cleaned_data
        actor = Actor.from_request(request)
        fields = {
            "url": data["url"],
            "events": data["events"],
            "active": data["active"],
            "comment": data["comment"],
            "secret": data["secret"],
        }
        if change:
            saved = webhook_update(webhook=obj, actor=actor, **fields)
        else:
            saved = webhook_create(actor=actor, **fields)
        obj.pk = saved.pk

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        return None


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = (
        "created_at",
        "webhook",
        "event",
        "status",
        "attempts",
        "response_status",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = ("status", "event", "webhook")
    readonly_fields = (
        "webhook",
        "delivery_id",
        "event",
        "payload",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "response_status",
        "response_body",
        "last_error",
    )
    fields = readonly_fields
    actions = ["replay"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("webhook")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description=_("Send again"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        actor = Actor.from_request(request)
        for delivery in queryset:
            delivery_replay(delivery=delivery, actor=actor)
        messages.success(request, _("The selected deliveries will be sent again."))
