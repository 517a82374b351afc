from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.decorators import action

from licentia.clients.admin import ClientAdmin
from licentia.clients.models import Client
from licentia.clients.search import client_search
from licentia.core import keycodes
from licentia.core.admin import cabinet_page
from licentia.core.audit import Actor
from licentia.core.normalize import row_id
from licentia.core.selectors import vendor_settings_get
from licentia.core.signals import signal_answers
from licentia.keys.forms import KeyLineAddForm, LicenseKeyForm
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import (
    KeyState,
    key_license,
    key_state,
    keys_in_state,
    line_features,
    line_is_live,
    line_sentence,
    line_term,
    lines_with_products,
    short_day,
)
from licentia.keys.services import (
    key_delete,
    key_delete_blockers,
    key_line_add,
    key_line_end,
    key_set_blocked,
    key_update,
    license_key_generate,
)
from licentia.keys.signals import key_open_sessions

admin.site.unregister(Client)


@admin.register(Client)
class ClientCardAdmin(ClientAdmin):
    """The client card and list with the client's keys, and the button that generates one."""

    list_display = (*ClientAdmin.list_display, "license_keys_column")
    actions_row = ["row_keys", *ClientAdmin.actions_row]
    actions_detail = ["detail_generate_key", "detail_keys", *ClientAdmin.actions_detail]
    readonly_fields = ("license_keys_display", *ClientAdmin.readonly_fields)
    record_fields = ("license_keys_display", *ClientAdmin.record_fields)

    @admin.display(description=_("License keys"))
    def license_keys_display(self, obj: Client) -> str:
        links = [
            format_html(
                '<a class="text-primary-600" href="{}">{}</a>',
                reverse("admin:keys_licensekey_change", args=[key.pk]),
                key.number,
            )
            for key in obj.license_keys.all()
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((link,) for link in links)) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return super().get_queryset(request).prefetch_related("license_keys")

    @admin.display(description=_("License keys"))
    def license_keys_column(self, obj: Client) -> str:
        numbers = [key.number for key in obj.license_keys.all()]
        return format_html_join(
            mark_safe("<br>"), '<span class="lc-key">{}</span>', ((n,) for n in numbers)
        )

    def deleted_with(self, client: Client) -> list[str]:
        return [
            format_html("{}: {}", _("license key"), key.number) for key in client.license_keys.all()
        ]

    @action(description=_("License keys"), icon="key", permissions=["view"])
    def row_keys(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:keys_licensekey_changelist") + f"?client__id__exact={object_id}"
        )

    @action(description=_("License keys"), icon="key", permissions=["view"])
    def detail_keys(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self.row_keys(request, object_id)

    @action(
        description=_("Generate a new license key"),
        icon="add_circle",
        permissions=["generate_key"],
    )
    def detail_generate_key(self, request: HttpRequest, object_id: int) -> HttpResponse:
        client = get_object_or_404(Client, pk=row_id(str(object_id)))
        card_url = reverse("admin:clients_client_change", args=[object_id])
        if request.method != "POST":
            # Generating a key changes data, so a plain link visit only asks for confirmation.
            return cabinet_page(
                self,
                request,
                title=_("Generate a new license key"),
                intro=_(
                    "An empty key (no products) with the prefix %(prefix)s will be generated "
                    "for %(company)s."
                )
                % {"prefix": vendor_settings_get().key_prefix, "company": client.company},
                submit_label=_("Generate"),
                cancel_url=card_url,
            )
        key = license_key_generate(client=client, actor=Actor.from_request(request))
        messages.success(
            request, _("A new empty license key was generated: %(key)s") % {"key": key.number}
        )
        return HttpResponseRedirect(card_url)

    def has_generate_key_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return request.user.has_perm("keys.add_licensekey")


class KeyStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return KeyState.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[LicenseKey]) -> QuerySet:
        value = self.value()
        if value not in KeyState.values:
            return queryset
        return keys_in_state(queryset, value)


class ExpiringWithinFilter(admin.SimpleListFilter):
    title = _("expiring within")
    parameter_name = "expiring"
    DAYS = (7, 30, 90)

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [
            (str(days), ngettext("%(days)d day", "%(days)d days", days) % {"days": days})
            for days in self.DAYS
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[LicenseKey]) -> QuerySet:
        value = self.value()
        if value not in {str(days) for days in self.DAYS}:
            return queryset
        moment = timezone.now()
        return queryset.filter(
            blocked=False,
            lines__state=LineState.ACTIVE,
            lines__starts_at__lte=moment,
            lines__expires_at__gt=moment,
            lines__expires_at__lte=moment + timedelta(days=int(value)),
        ).distinct()


@admin.register(LicenseKey)
class LicenseKeyAdmin(ModelAdmin):
    form = LicenseKeyForm
    list_display = (
        "number_display",
        "client_display",
        "products",
        "expiry",
        "state",
    )
    list_select_related = ("client",)
    list_filter = (
        KeyStateFilter,
        ("lines__product", admin.RelatedOnlyFieldListFilter),
        ("client__distributor", admin.RelatedOnlyFieldListFilter),
        ("client__manager", admin.RelatedOnlyFieldListFilter),
        ExpiringWithinFilter,
    )
    search_fields = ("number",)  # shows the search box; the search itself is below
    search_help_text = _("Key in any formatting, company or e-mail")
    autocomplete_fields = ("client",)
    actions = None
    actions_detail = [
        "detail_block",
        "detail_unblock",
        "detail_add_line",
        "detail_sessions",
        "detail_problems",
        "detail_mail",
    ]
    change_form_before_template = "keys/blocked_banner.html"
    readonly_fields = ("number_display", "lines_display", "created_at")
    fieldsets = (
        (
            _("Main settings"),
            {
                "classes": ["tab"],
                "fields": (
                    "number_display",
                    "client",
                    "contact",
                    "phone",
                    "email",
                    "distributor",
                    "manager",
                    "comment",
                    "created_at",
                ),
            },
        ),
        (_("Products bound to the key"), {"classes": ["tab"], "fields": ("lines_display",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[LicenseKey]:
        return super().get_queryset(request).prefetch_related("lines")

    @staticmethod
    def _lines(obj: LicenseKey) -> list[KeyLine]:
        """The key's prefetched lines with their products from the catalog: a list of keys
        reads them all in one query."""
        return lines_with_products(list(obj.lines.all()))

    @admin.display(description=_("client"), ordering="client__company")
    def client_display(self, obj: LicenseKey) -> str:
        """The company with its contact and e-mail under it: one column, not three, so that the
        list fits a laptop's width."""
        reach = " · ".join(value for value in (obj.client.contact, obj.client.email) if value)
        return format_html('{}<span class="lc-subline">{}</span>', obj.client.company, reach)

    @admin.display(description=_("key"), ordering="number")
    def number_display(self, obj: LicenseKey) -> str:
        return format_html('<span class="lc-key">{}</span>', obj.number)

    @admin.display(description=_("products"))
    def products(self, obj: LicenseKey) -> str:
        """Each product with its term as a chip; an expired or ended one greyed and struck."""
        moment = timezone.now()
        chips = []
        for line in self._lines(obj):
            if line.state == LineState.REMOVED_BY_COUPON:
                continue
            live = line_is_live(line, at=moment)
            kind = "lc-chip-ended" if not live else "lc-chip-trial" if line.is_trial else ""
            chips.append(
                format_html(
                    '<span class="lc-chip {}" title="{}">{} · {}</span>',
                    kind,
                    line_sentence(line, at=moment),
                    line.product.name,
                    line_term(line, at=moment),
                )
            )
        return format_html_join("", "{}", ((chip,) for chip in chips)) or "—"

    @admin.display(description=_("expiry"))
    def expiry(self, obj: LicenseKey) -> str:
        """The nearest end among the products in force; the last one when all have ended."""
        moment = timezone.now()
        lines = [line for line in self._lines(obj) if line.state != LineState.REMOVED_BY_COUPON]
        live = [line for line in lines if line_is_live(line, at=moment)]
        if live:
            ends = [line.expires_at for line in live if line.expires_at is not None]
            if not ends:
                return str(_("perpetual"))
            return format_html('<span class="lc-nowrap">{}</span>', short_day(min(ends)))
        ended = [line.expires_at or line.ended_at for line in lines]
        ended_days = [day for day in ended if day is not None]
        if not ended_days:
            return "—"
        return format_html(
            '<span class="lc-nowrap text-red-600">{} {}</span>',
            _("expired"),
            short_day(max(ended_days)),
        )

    @admin.display(description=_("state"))
    def state(self, obj: LicenseKey) -> str:
        state = KeyState(key_state(obj, lines=self._lines(obj)))
        return format_html('<span class="lc-state lc-state-{}">{}</span>', state.value, state.label)

    @admin.display(description="")
    def lines_display(self, obj: LicenseKey) -> str:
        now = timezone.now()
        license_ = key_license(obj, now)
        boxes = []
        for line in license_.lines:
            boxes.append(
                {
                    "line": line,
                    "live": line_is_live(line, at=now),
                    "sentence": line_sentence(line, at=now),
                    "features": line_features(line),
                    "can_end": line.state == LineState.ACTIVE,
                    "end_url": reverse("admin:keys_keyline_end", args=[line.pk]),
                }
            )
        return render_to_string("keys/key_lines.html", {"boxes": boxes})

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LicenseKey], search_term: str
    ) -> tuple[QuerySet[LicenseKey], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        number = keycodes.key_number(term)
        if number is not None:
            return queryset.filter(number=number), False
        return queryset.filter(client__in=client_search(query=term).values("pk")), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are generated from the client card, numbered by the service.
        return False

    def save_model(
        self, request: HttpRequest, obj: LicenseKey, form: ModelForm, change: bool
    ) -> None:
        assert isinstance(form, LicenseKeyForm)
        try:
            key_update(
                key=obj,
                actor=Actor.from_request(request),
                client=obj.client,
                blocked=obj.blocked,
                client_changes=form.client_changes(),
            )
        except ValidationError as error:
            # The form is valid, so this is the service's refusal: shown, nothing saved.
            messages.error(request, " ".join(error.messages))
            raise

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = [message for key in objs for message in key_delete_blockers(key)]
        return [str(key) for key in objs], {}, set(), protected

    def delete_model(self, request: HttpRequest, obj: LicenseKey) -> None:
        key_delete(key=obj, actor=Actor.from_request(request))

    def get_urls(self) -> list[Any]:
        end_line = path(
            "line/<int:line_id>/end/",
            self.admin_site.admin_view(self.end_line_view),
            name="keys_keyline_end",
        )
        return [end_line, *super().get_urls()]

    @action(description=_("Sessions"), icon="monitor_heart", permissions=["view"])
    def detail_sessions(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:licensing_session_changelist") + f"?key={object_id}"
        )

    @action(description=_("Problems"), icon="report", permissions=["view"])
    def detail_problems(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:licensing_problem_changelist") + f"?key__id__exact={object_id}"
        )

    @action(description=_("Mail"), icon="mail", permissions=["view"])
    def detail_mail(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:notifications_notification_changelist") + f"?key__id__exact={object_id}"
        )

    def _key_in_state(self, request: HttpRequest, object_id: Any, *, blocked: bool) -> bool:
        if not self.has_change_permission(request):
            return False
        if object_id is None:
            return True
        pk = row_id(str(object_id))
        return pk is not None and LicenseKey.objects.filter(pk=pk, blocked=blocked).exists()

    def has_block_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._key_in_state(request, object_id, blocked=False)

    def has_unblock_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return self._key_in_state(request, object_id, blocked=True)

    @action(description=_("Block"), icon="block", permissions=["block"])
    def detail_block(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self._block_view(request, object_id, blocked=True)

    @action(description=_("Unblock"), icon="lock_open", permissions=["unblock"])
    def detail_unblock(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self._block_view(request, object_id, blocked=False)

    def _block_view(self, request: HttpRequest, object_id: int, *, blocked: bool) -> HttpResponse:
        key = get_object_or_404(
            LicenseKey.objects.select_related("client"), pk=row_id(str(object_id))
        )
        card_url = reverse("admin:keys_licensekey_change", args=[key.pk])
        if request.method == "POST":
            key_set_blocked(key=key, blocked=blocked, actor=Actor.from_request(request))
            done = (
                _("The key %(key)s is blocked.") if blocked else _("The key %(key)s is unblocked.")
            )
            messages.success(request, done % {"key": key.number})
            return HttpResponseRedirect(card_url)
        if blocked:
            sessions = sum(signal_answers(key_open_sessions, sender=LicenseKey, key=key))
            intro = ngettext(
                "The key %(key)s of %(company)s will be blocked: its %(count)d open session "
                "ends now and it gives no seat until it is unblocked.",
                "The key %(key)s of %(company)s will be blocked: its %(count)d open sessions "
                "end now and it gives no seat until it is unblocked.",
                sessions,
            ) % {"key": key.number, "company": key.client.company, "count": sessions}
        else:
            intro = _("The key %(key)s of %(company)s will be unblocked and give seats again.") % {
                "key": key.number,
                "company": key.client.company,
            }
        return cabinet_page(
            self,
            request,
            title=_("Block the key") if blocked else _("Unblock the key"),
            intro=intro,
            submit_label=_("Block") if blocked else _("Unblock"),
            cancel_url=card_url,
        )

    @action(description=_("Add a product"), icon="add_circle", permissions=["change"])
    def detail_add_line(self, request: HttpRequest, object_id: int) -> HttpResponse:
        key = get_object_or_404(LicenseKey, pk=row_id(str(object_id)))
        card_url = reverse("admin:keys_licensekey_change", args=[key.pk])
        form = KeyLineAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                key_line_add(key=key, actor=Actor.from_request(request), **form.cleaned_data)
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, _("The product was added to the key."))
                return HttpResponseRedirect(card_url)
        return cabinet_page(
            self,
            request,
            title=_("Add a product to %(key)s") % {"key": key.number},
            form=form,
            submit_label=_("Add"),
            cancel_url=card_url,
        )

    def end_line_view(self, request: HttpRequest, line_id: int) -> HttpResponse:
        line = get_object_or_404(KeyLine.objects.select_related("key", "product"), pk=line_id)
        if not self.has_change_permission(request, line.key):
            raise PermissionDenied
        card_url = reverse("admin:keys_licensekey_change", args=[line.key_id])
        if request.method == "POST":
            try:
                key_line_end(line=line, actor=Actor.from_request(request))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The line was ended."))
            return HttpResponseRedirect(card_url)
        return cabinet_page(
            self,
            request,
            title=_("End the line"),
            intro=_("%(product)s will stop counting in %(key)s from now on.")
            % {"product": line.product.name, "key": line.key.number},
            submit_label=_("End the line"),
            cancel_url=card_url,
        )
