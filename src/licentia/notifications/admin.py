from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from licentia.clients.models import Client
from licentia.core.admin import SingletonAdmin, admin_extend, cabinet_page
from licentia.core.audit import Actor
from licentia.core.normalize import row_id
from licentia.notifications.defaults import sample_context, variables_of
from licentia.notifications.delivery import notification_send_now, smtp_check
from licentia.notifications.forms import (
    MailSettingsForm,
    MailTemplateForm,
    environment_mail_summary,
)
from licentia.notifications.models import MailSettings, MailStatus, MailTemplate, Notification
from licentia.notifications.rendering import TemplateRenderError, render_mail
from licentia.notifications.services import (
    MAIL_SETTINGS_EDITABLE,
    mail_settings_get,
    mail_settings_update,
    mail_template_reset,
    mail_template_update,
    mail_templates_ensure,
    mail_test_write,
    notification_resend,
)


def _variables_html(kind: str) -> str:
    return format_html(
        "<ul class='flex flex-col gap-1'>{}</ul>",
        format_html_join(
            "",
            "<li><code class='font-semibold'>{{{{ {} }}}}</code> — {}</li>",
            ((name, description) for name, description in variables_of(kind).items()),
        ),
    )


@admin.register(MailTemplate)
class MailTemplateAdmin(ModelAdmin):
    form = MailTemplateForm
    list_display = ("kind", "language", "enabled", "subject", "updated_at")
    list_filter = ("kind", "language", "enabled")
    actions = None
    actions_detail = ["detail_preview", "detail_send_test", "detail_reset"]
    readonly_fields = ("kind", "language", "variables_display")
    fieldsets = (
        (None, {"fields": ("kind", "language", "enabled", "subject", "html")}),
        (_("Variables"), {"fields": ("variables_display",)}),
    )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        mail_templates_ensure()
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("variables"))
    def variables_display(self, obj: MailTemplate) -> str:
        return format_html(
            "<p class='mb-2'>{}</p>{}",
            _(
                "Write them as {{ name }}; lists are walked with {% for p in products %} … "
                "{% endfor %}, each block tag in a paragraph of its own. Values are escaped."
            ),
            _variables_html(obj.kind),
        )

    def save_model(
        self, request: HttpRequest, obj: MailTemplate, form: ModelForm, change: bool
    ) -> None:
        mail_template_update(
            actor=Actor.from_request(request),
            template=obj,
            subject=form.cleaned_data["subject"],
            html=form.cleaned_data["html"],
            enabled=form.cleaned_data["enabled"],
        )

    def _template_and_card(self, object_id: int) -> tuple[MailTemplate, str]:
        template = get_object_or_404(MailTemplate, pk=row_id(str(object_id)))
        return template, reverse("admin:notifications_mailtemplate_change", args=[template.pk])

    @action(description=_("Preview"), icon="preview", permissions=["view"])
    def detail_preview(self, request: HttpRequest, object_id: int) -> HttpResponse:
        template, card_url = self._template_and_card(object_id)
        try:
            rendered = render_mail(
                subject=template.subject, html=template.html, context=sample_context(template.kind)
            )
        except TemplateRenderError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(card_url)
        return cabinet_page(
            self,
            request,
            "notifications/preview.html",
            title=_("Preview: %(template)s") % {"template": template},
            template=template,
            rendered=rendered,
            card_url=card_url,
            send_url=reverse(
                "admin:notifications_mailtemplate_detail_send_test", args=[template.pk]
            ),
        )

    @action(description=_("Send a test mail"), icon="send", permissions=["change"])
    def detail_send_test(self, request: HttpRequest, object_id: int) -> HttpResponse:
        template, card_url = self._template_and_card(object_id)
        if request.method != "POST":
            return cabinet_page(
                self,
                request,
                title=_("Send a test mail"),
                intro=_("The template %(template)s, filled with sample data, goes to %(email)s.")
                % {"template": template, "email": request.user.email or "—"},  # type: ignore[union-attr]
                submit_label=_("Send"),
                cancel_url=card_url,
            )
        try:
            row = mail_test_write(
                actor=Actor.from_request(request),
                kind=template.kind,
                language=template.language,
                subject=template.subject,
                html=template.html,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(card_url)
        status = notification_send_now(row)
        row.refresh_from_db()
        if status == MailStatus.SENT:
            messages.success(
                request, _("The test mail was sent to %(email)s.") % {"email": row.recipient}
            )
        else:
            messages.error(
                request,
                _("The test mail was not sent: %(error)s") % {"error": row.last_error},
            )
        return HttpResponseRedirect(card_url)

    @action(description=_("Restore the default"), icon="restart_alt", permissions=["change"])
    def detail_reset(self, request: HttpRequest, object_id: int) -> HttpResponse:
        template, card_url = self._template_and_card(object_id)
        if request.method != "POST":
            return cabinet_page(
                self,
                request,
                title=_("Restore the default"),
                intro=_("The subject and body of %(template)s return to the shipped ones.")
                % {"template": template},
                submit_label=_("Restore"),
                cancel_url=card_url,
            )
        mail_template_reset(actor=Actor.from_request(request), template=template)
        messages.success(request, _("The template is back to its default."))
        return HttpResponseRedirect(card_url)


@admin.register(MailSettings)
class MailSettingsAdmin(SingletonAdmin):
    form = MailSettingsForm
    actions_detail = ["detail_check_connection"]
    readonly_fields = ("environment_display", "password_state", "updated_at")
    fieldsets = (
        (
            _("SMTP server"),
            {
                "fields": (
                    "environment_display",
                    "host",
                    ("port", "security"),
                    "username",
                    "password_state",
                    "password",
                    "clear_password",
                    "sender",
                )
            },
        ),
        (_("Mailing"), {"fields": ("remind_trials", "digest_opt_out", "updated_at")}),
    )
    filter_horizontal = ("digest_opt_out",)

    def singleton(self) -> MailSettings:
        return mail_settings_get()

    @admin.display(description=_("server's environment"))
    def environment_display(self, obj: MailSettings) -> str:
        return format_html(
            "{}<p class='text-xs mt-1'>{}</p>",
            environment_mail_summary(),
            _("Used while the host below is empty."),
        )

    @admin.display(description=_("stored password"))
    def password_state(self, obj: MailSettings) -> str:
        return str(_("set") if obj.password_encrypted else _("none"))

    def save_model(
        self, request: HttpRequest, obj: MailSettings, form: ModelForm, change: bool
    ) -> None:
        assert isinstance(form, MailSettingsForm)
        mail_settings_update(
            actor=Actor.from_request(request),
            password=form.new_password(),
            digest_opt_out=form.cleaned_data["digest_opt_out"],
            **{name: form.cleaned_data[name] for name in MAIL_SETTINGS_EDITABLE},
        )
        messages.success(request, _("Mail settings saved."))

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        """The service saved the managers without the digest already."""

    def response_change(self, request: HttpRequest, obj: Model) -> HttpResponse:
        return HttpResponseRedirect(request.path)

    @action(description=_("Check the connection"), icon="lan", permissions=["change"])
    def detail_check_connection(self, request: HttpRequest, object_id: int) -> HttpResponse:
        error = smtp_check()
        if error is None:
            messages.success(request, _("The mail server answers and accepts the login."))
        else:
            messages.error(
                request, _("The mail server cannot be reached: %(error)s") % {"error": error}
            )
        return HttpResponseRedirect(
            reverse("admin:notifications_mailsettings_change", args=[object_id])
        )


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = (
        "created_at",
        "status_display",
        "recipient",
        "role",
        "client",
        "kind",
        "language",
        "subject",
        "attempts",
        "short_error",
    )
    list_filter = ("status", "kind", "role", "language", "address_refused")
    search_fields = ("recipient", "subject")
    list_select_related = ("client", "key")
    date_hierarchy = "created_at"
    actions = ["resend_selected"]
    actions_detail = ["detail_resend"]
    fields = (
        "status",
        "recipient",
        "role",
        "client",
        "key",
        "kind",
        "language",
        "subject",
        "html_display",
        "text",
        "attempts",
        "queued_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "address_refused",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The client and key cards open the outbox filtered to their own mail.
        return lookup in {"client__id__exact", "key__id__exact"} or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description=_("state"), ordering="status")
    def status_display(self, obj: Notification) -> str:
        colours: dict[str, str] = {
            MailStatus.SENT: "text-green-700",
            MailStatus.FAILED: "text-red-600",
        }
        return format_html(
            "<span class='{}'>{}</span>", colours.get(obj.status, ""), obj.get_status_display()
        )

    @admin.display(description=_("last error"))
    def short_error(self, obj: Notification) -> str:
        return obj.last_error[:80]

    @admin.display(description=_("HTML body"))
    def html_display(self, obj: Notification) -> str:
        # A sandboxed frame: the mail's HTML never runs in the cabinet's page.
        return format_html(
            "<iframe sandbox class='w-full h-80 border rounded-default bg-white' srcdoc='{}'>"
            "</iframe>",
            obj.html,
        )

    def _resend(self, request: HttpRequest, rows: QuerySet[Notification]) -> None:
        actor = Actor.from_request(request)
        queued = 0
        for row in rows:
            try:
                notification_resend(actor=actor, notification=row)
            except ValidationError as error:
                messages.warning(request, f"{row.recipient}: {' '.join(error.messages)}")
            else:
                queued += 1
        if queued:
            messages.success(request, _("Queued again: %(count)d.") % {"count": queued})

    @action(description=_("Send again"), icon="send", permissions=["change"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        self._resend(request, queryset)

    @action(description=_("Send again"), icon="send", permissions=["change"])
    def detail_resend(self, request: HttpRequest, object_id: int) -> HttpResponse:
        row = get_object_or_404(Notification, pk=row_id(str(object_id)))
        card_url = reverse("admin:notifications_notification_change", args=[row.pk])
        if request.method != "POST":
            return cabinet_page(
                self,
                request,
                title=_("Send again"),
                intro=_("The mail «%(subject)s» goes to %(email)s once more.")
                % {"subject": row.subject, "email": row.recipient},
                submit_label=_("Send"),
                cancel_url=card_url,
            )
        self._resend(request, Notification.objects.filter(pk=row.pk))
        return HttpResponseRedirect(card_url)


class ClientCardMail:
    """The client card's mail: a link to the client's outgoing mail, and the card's addresses
    the mail server refused."""

    @admin.display(description=_("refused e-mail addresses"))
    def refused_mail_display(self, obj: Client) -> str:
        # An address of the card whose latest mail was refused is shown until a mail to it
        # goes through.
        refused = []
        for address in dict.fromkeys(a for a in (obj.email, obj.alert_email) if a):
            latest = (
                Notification.objects.filter(
                    client=obj, recipient=address, status__in=[MailStatus.SENT, MailStatus.FAILED]
                )
                .order_by("-id")
                .first()
            )
            if latest is not None and latest.address_refused:
                refused.append((address, latest.last_error))
        if not refused:
            return "—"
        return format_html_join(
            "", "<p class='text-red-600'>{}: {}</p>", ((a, e[:200]) for a, e in refused)
        )

    @action(description=_("Mail"), icon="mail", permissions=["view"])
    def detail_mail(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:notifications_notification_changelist")
            + f"?client__id__exact={object_id}"
        )


admin_extend(
    Client,
    ClientCardMail,
    actions_detail=["detail_mail"],
    readonly_fields=["refused_mail_display"],
    record_fields=["refused_mail_display"],
)
