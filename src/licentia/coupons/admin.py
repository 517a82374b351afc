"""The cabinet's coupons: the list, the generator, activation, and the coupons' part of the key
and client cards (the key card's tab of activated coupons, deactivation, a line changed by
hand; the client card's link to its coupons)."""

import csv
import io
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action

from licentia.catalog.selectors import catalog_products
from licentia.clients.models import Client
from licentia.core import keycodes
from licentia.core.admin import admin_extend, cabinet_page
from licentia.core.admin_filters import DayRangeFilter
from licentia.core.audit import Actor
from licentia.core.normalize import row_id
from licentia.coupons.forms import (
    ActivateForm,
    GeneratorForm,
    LineChangeForm,
    RowFormSet,
    row_initial,
)
from licentia.coupons.models import Activation, Coupon, CouponBatch, CouponKind, Door
from licentia.coupons.selectors import (
    CouponState,
    coupon_code_parse,
    coupon_state,
    coupons_in_state,
    coupons_of_client,
    key_activations,
)
from licentia.coupons.services import (
    activation_deactivate,
    coupon_activate,
    coupon_batch_generate,
    coupons_set_blocked,
    key_line_change,
    key_upgrade_now,
)
from licentia.keys.models import LicenseKey, LineState
from licentia.keys.selectors import key_lines, line_is_live
from licentia.licensing.refusals import Refusal

GENERATE = "coupons.add_couponbatch"
ACTIVATE = "coupons.add_activation"
DEACTIVATE = "coupons.change_activation"
CHANGE_LINES = "keys.change_keyline"


class CouponPermissions:
    """Action permissions as methods: the theme checks a dotted permission against the
    database at startup, before a fresh server has migrated."""

    def has_generate_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(GENERATE)

    def has_activate_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(ACTIVATE)

    def has_change_lines_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(CHANGE_LINES)


class StateFilter(SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return CouponState.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> QuerySet[Coupon]:
        value = self.value()
        return coupons_in_state(queryset, value) if value in CouponState.values else queryset


class ClientFilter(SimpleListFilter):
    """Opened from the client card: the coupons of the client's keys."""

    title = gettext_lazy("client")
    parameter_name = "client"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        value = row_id(self.value() or "")
        client = Client.objects.filter(pk=value).first() if value is not None else None
        return [(str(client.pk), client.company)] if client is not None else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> QuerySet[Coupon]:
        value = row_id(self.value() or "")
        return coupons_of_client(queryset, value) if value is not None else queryset


class BatchFilter(SimpleListFilter):
    title = gettext_lazy("batch")
    parameter_name = "batch"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        batches = list(CouponBatch.objects.order_by("-id")[:30])
        value = row_id(self.value() or "")
        if value is not None and value not in {batch.pk for batch in batches}:
            batches += list(CouponBatch.objects.filter(pk=value))
        return [(str(batch.pk), str(batch)) for batch in batches]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> QuerySet[Coupon]:
        value = row_id(self.value() or "")
        return queryset.filter(batch_id=value) if value is not None else queryset


@admin.register(Coupon)
class CouponAdmin(CouponPermissions, ModelAdmin):
    list_display = (
        "code",
        "kind",
        "state",
        "batch_link",
        "distributor",
        "invoice",
        "activated_key_link",
        "activated_client",
        "created",
    )
    list_select_related = ("batch__distributor", "activated_key__client")
    list_filter = (
        ("batch__kind", admin.ChoicesFieldListFilter),
        StateFilter,
        ("batch__distributor", admin.RelatedFieldListFilter),
        BatchFilter,
        ClientFilter,
        ("batch__created_at", DayRangeFilter),
    )
    list_filter_submit = True
    search_fields = ("code",)  # shows the search box; the search itself is below
    search_help_text = gettext_lazy("Code in any formatting, key, company, distributor, invoice")
    actions = ["block_selected", "unblock_selected"]
    actions_list = ["list_generate", "list_activate"]
    fields = (
        "code",
        "kind",
        "state",
        "batch_link",
        "distributor",
        "invoice",
        "activated_key_link",
        "activated_at",
        "activations_display",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Codes come from the generator.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A coupon changes only by the list's block and unblock; its page is for reading.
        return obj is None and super().has_change_permission(request)

    @admin.display(description=gettext_lazy("kind"), ordering="batch__kind")
    def kind(self, obj: Coupon) -> str:
        return obj.batch.get_kind_display()

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: Coupon) -> str:
        return str(CouponState(coupon_state(obj)).label)

    @admin.display(description=gettext_lazy("batch"), ordering="batch_id")
    def batch_link(self, obj: Coupon) -> str:
        url = reverse("admin:coupons_batch", args=[obj.batch_id])
        return format_html('<a class="text-primary-600" href="{}">#{}</a>', url, obj.batch_id)

    @admin.display(description=gettext_lazy("distributor"))
    def distributor(self, obj: Coupon) -> str:
        return str(obj.batch.distributor or "—")

    @admin.display(description=gettext_lazy("invoice"))
    def invoice(self, obj: Coupon) -> str:
        batch = obj.batch
        day = date_format(batch.invoice_date, "SHORT_DATE_FORMAT") if batch.invoice_date else ""
        return " ".join(part for part in (batch.invoice_number, day) if part) or "—"

    @admin.display(description=gettext_lazy("activated on key"))
    def activated_key_link(self, obj: Coupon) -> str:
        key = obj.activated_key
        if key is None:
            return "—"
        url = reverse("admin:keys_licensekey_change", args=[key.pk])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, key.number)

    @admin.display(description=gettext_lazy("client"))
    def activated_client(self, obj: Coupon) -> str:
        return obj.activated_key.client.company if obj.activated_key else "—"

    @admin.display(description=gettext_lazy("created"), ordering="batch__created_at")
    def created(self, obj: Coupon) -> str:
        return date_format(timezone.localtime(obj.batch.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=gettext_lazy("coupon activations"))
    def activations_display(self, obj: Coupon) -> str:
        return render_to_string(
            "coupons/activations.html",
            {"rows": _activation_rows(obj.activations.select_related("key", "coupon__batch"))},
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Coupon], search_term: str
    ) -> tuple[QuerySet[Coupon], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        code = coupon_code_parse(term)
        if code is not None:
            return queryset.filter(code=code), False
        number = keycodes.key_number(term)
        if number is not None:
            by_key = Q(activations__key__number=number) | Q(batch__target_key__number=number)
            return queryset.filter(by_key), True
        return queryset.filter(
            Q(code__icontains=keycodes.compact(term))
            | Q(activations__key__client__company__icontains=term)
            | Q(batch__target_key__client__company__icontains=term)
            | Q(batch__distributor__name__icontains=term)
            | Q(batch__invoice_number__icontains=term)
        ), True

    @action(description=gettext_lazy("Block"), permissions=["change"])
    def block_selected(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> None:
        changed = coupons_set_blocked(
            coupons=queryset, blocked=True, actor=Actor.from_request(request)
        )
        messages.success(request, _("Coupons blocked: %(count)d.") % {"count": changed})

    @action(description=gettext_lazy("Unblock"), permissions=["change"])
    def unblock_selected(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> None:
        changed = coupons_set_blocked(
            coupons=queryset, blocked=False, actor=Actor.from_request(request)
        )
        messages.success(request, _("Coupons unblocked: %(count)d.") % {"count": changed})

    @action(description=gettext_lazy("Coupon generator"), icon="add_card", permissions=["generate"])
    def list_generate(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:coupons_coupon_generate"))

    @action(description=gettext_lazy("Activate a coupon"), icon="redeem", permissions=["activate"])
    def list_activate(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:coupons_coupon_activate"))

    def get_urls(self) -> list[Any]:
        def view(function: Any, route: str, name: str) -> Any:
            return path(route, self.admin_site.admin_view(function), name=name)

        return [
            view(self.generate_view, "generate/", "coupons_coupon_generate"),
            view(self.activate_view, "activate/", "coupons_coupon_activate"),
            view(self.batch_view, "batch/<int:batch_id>/", "coupons_batch"),
            view(self.batch_csv_view, "batch/<int:batch_id>/csv/", "coupons_batch_csv"),
            view(
                self.deactivate_view,
                "activation/<int:activation_id>/deactivate/",
                "coupons_activation_deactivate",
            ),
            view(self.line_change_view, "key/<int:key_id>/line/", "coupons_key_line_change"),
            *super().get_urls(),
        ]

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(GENERATE):
            raise PermissionDenied
        key_id = row_id(request.GET.get("key", ""))
        key = get_object_or_404(LicenseKey, pk=key_id) if key_id is not None else None
        live = [line for line in key_lines(key) if line_is_live(line)] if key else []
        data = request.POST if request.method == "POST" else None
        form = GeneratorForm(data, upgrade=key is not None)
        rows = RowFormSet(data, initial=[row_initial(line) for line in live] or None)
        if data is not None and form.is_valid() and rows.is_valid():
            outcome = self._generate(request, form, rows, key, live)
            if outcome is not None:
                return outcome
        return cabinet_page(
            self,
            request,
            "coupons/generator.html",
            title=(
                _("Upgrade coupon for %(key)s") % {"key": key.number}
                if key
                else _("Coupon generator")
            ),
            form=form,
            rows=rows,
            key=key,
            before=live,
        )

    def _generate(
        self,
        request: HttpRequest,
        form: GeneratorForm,
        rows: Any,
        key: LicenseKey | None,
        live: list[Any],
    ) -> HttpResponse | None:
        lines = {line.pk: line for line in live}
        chosen = [
            row.row(lines)
            for row in rows.forms
            if row.cleaned_data.get("product") and not row.cleaned_data.get("DELETE")
        ]
        data = form.cleaned_data
        actor = Actor.from_request(request)
        batch_fields = {
            "distributor": data["distributor"],
            "invoice_number": data["invoice_number"],
            "invoice_date": data["invoice_date"],
            "comment": data["comment"],
        }
        try:
            if key is not None and data.get("activate_now"):
                if not request.user.has_perm(ACTIVATE):
                    raise PermissionDenied
                key_upgrade_now(key=key, rows=chosen, actor=actor, **batch_fields)
                messages.success(request, _("The new composition was applied to the key."))
                return HttpResponseRedirect(reverse("admin:keys_licensekey_change", args=[key.pk]))
            batch = coupon_batch_generate(
                kind=CouponKind.UPGRADE if key else data["kind"],
                rows=chosen,
                actor=actor,
                count=data.get("count", 1),
                reusable=data.get("reusable", False),
                target_key=key,
                **batch_fields,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
            return None
        except Refusal as refusal:
            form.add_error(None, str(refusal.message))
            return None
        messages.success(request, _("Coupons generated: %(count)d.") % {"count": batch.size})
        return HttpResponseRedirect(reverse("admin:coupons_batch", args=[batch.pk]))

    def batch_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(
            CouponBatch.objects.select_related("distributor", "target_key"), pk=batch_id
        )
        return cabinet_page(
            self,
            request,
            "coupons/batch.html",
            title=_("Coupon batch #%(id)d") % {"id": batch.pk},
            batch=batch,
            lines=batch.lines.select_related("product"),
            codes="\n".join(batch.coupons.order_by("id").values_list("code", flat=True)),
            list_url=reverse("admin:coupons_coupon_changelist") + f"?batch={batch.pk}",
        )

    def batch_csv_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(CouponBatch.objects.select_related("distributor"), pk=batch_id)
        out = io.StringIO()
        # The BOM tells Excel and 1C that the file is UTF-8; they expect ";" between columns.
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([_("code"), _("kind"), _("distributor"), _("CRM invoice number")])
        kind = batch.get_kind_display()
        distributor = str(batch.distributor or "")
        for code in batch.coupons.order_by("id").values_list("code", flat=True):
            writer.writerow([code, kind, distributor, batch.invoice_number])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coupons-{batch.pk}.csv"'
        return response

    def activate_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(ACTIVATE):
            raise PermissionDenied
        key_id = row_id(request.GET.get("key", ""))
        key = LicenseKey.objects.filter(pk=key_id).first() if key_id is not None else None
        form = ActivateForm(
            request.POST if request.method == "POST" else None,
            initial={"key": key.number if key else ""},
        )
        if request.method == "POST" and form.is_valid():
            try:
                activation = coupon_activate(
                    key_number=form.cleaned_data["key"],
                    code=form.cleaned_data["coupon"],
                    door=Door.CABINET,
                    actor=Actor.from_request(request),
                )
            except Refusal as refusal:
                form.add_error(None, f"{int(refusal.code)}: {refusal.message}")
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("Coupon %(coupon)s activated on %(key)s.")
                    % {"coupon": activation.coupon.code, "key": activation.key.number},
                )
                return HttpResponseRedirect(
                    reverse("admin:keys_licensekey_change", args=[activation.key_id])
                )
        return cabinet_page(
            self,
            request,
            "cabinet/form_page.html",
            title=_("Activate a coupon"),
            form=form,
            submit_label=_("Activate"),
            cancel_url=reverse("admin:coupons_coupon_changelist"),
        )

    def deactivate_view(self, request: HttpRequest, activation_id: int) -> HttpResponse:
        if not request.user.has_perm(DEACTIVATE):
            raise PermissionDenied
        activation = get_object_or_404(
            Activation.objects.select_related("coupon", "key"), pk=activation_id
        )
        card_url = reverse("admin:keys_licensekey_change", args=[activation.key_id])
        if request.method == "POST":
            try:
                activation_deactivate(activation=activation, actor=Actor.from_request(request))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("Coupon %(coupon)s deactivated: the key's lines are as they were.")
                    % {"coupon": activation.coupon.code},
                )
            return HttpResponseRedirect(card_url)
        return cabinet_page(
            self,
            request,
            "cabinet/form_page.html",
            title=_("Deactivate the coupon"),
            intro=_(
                "%(coupon)s: the lines of %(key)s go back to what they were before the "
                "activation; seats beyond what they give end."
            )
            % {"coupon": activation.coupon.code, "key": activation.key.number},
            submit_label=_("Deactivate"),
            cancel_url=card_url,
        )

    def line_change_view(self, request: HttpRequest, key_id: int) -> HttpResponse:
        if not request.user.has_perm(CHANGE_LINES):
            raise PermissionDenied
        key = get_object_or_404(LicenseKey, pk=key_id)
        card_url = reverse("admin:keys_licensekey_change", args=[key.pk])
        live = [line for line in key_lines(key) if line_is_live(line)]
        form = LineChangeForm(request.POST if request.method == "POST" else None, lines=live)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                key_line_change(
                    line=next(line for line in live if line.pk == data["line"].pk),
                    actor=Actor.from_request(request),
                    multiplier=data["multiplier"],
                    expires_at=data["expires_at"],
                    purchased=data["purchased"],
                )
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                messages.success(request, _("The line was changed."))
                return HttpResponseRedirect(card_url)
        return cabinet_page(
            self,
            request,
            "cabinet/form_page.html",
            title=_("Change a line of %(key)s") % {"key": key.number},
            form=form,
            submit_label=_("Save"),
            cancel_url=card_url,
        )


def _line_text(record: dict[str, Any] | None) -> str:
    if record is None:
        return "—"
    products = catalog_products()
    product = products.get(record["product_id"])
    parts = [product.name if product else str(record["product_id"])]
    if record["multiplier"] != 1:
        parts.append(f"× {record['multiplier']}")
    if record["is_trial"]:
        parts.append(_("trial"))
    if record["state"] != LineState.ACTIVE:
        parts.append(str(LineState(record["state"]).label))
    elif record["expires_at"]:
        moment = timezone.localtime(datetime.fromisoformat(record["expires_at"]))
        parts.append(_("until %(date)s") % {"date": date_format(moment, "SHORT_DATE_FORMAT")})
    else:
        parts.append(_("perpetual"))
    return " ".join(parts)


def _activation_rows(activations: Any) -> list[dict[str, Any]]:
    return [
        {
            "activation": activation,
            "changes": [
                (_line_text(row["before"]), _line_text(row["after"])) for row in activation.changes
            ],
            "deactivate_url": reverse("admin:coupons_activation_deactivate", args=[activation.pk]),
        }
        for activation in activations
    ]


class KeyCardCoupons(CouponPermissions):
    """The key card's coupons: the tab of activated coupons, and the actions that activate a
    coupon, generate an upgrade coupon and change a line (keys know nothing of coupons)."""

    @admin.display(description="")
    def activations_display(self, obj: LicenseKey) -> str:
        return render_to_string(
            "coupons/activations.html", {"rows": _activation_rows(key_activations(obj))}
        )

    @action(description=gettext_lazy("Activate a coupon"), icon="redeem", permissions=["activate"])
    def detail_activate_coupon(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:coupons_coupon_activate") + f"?key={int(object_id)}"
        )

    @action(
        description=gettext_lazy("Generate an upgrade coupon"),
        icon="upgrade",
        permissions=["generate"],
    )
    def detail_upgrade_coupon(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:coupons_coupon_generate") + f"?key={int(object_id)}"
        )

    @action(description=gettext_lazy("Change a line"), icon="edit", permissions=["change_lines"])
    def detail_change_line(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:coupons_key_line_change", args=[int(object_id)]))


class ClientCardCoupons:
    """The client card opens the client's coupons."""

    @action(description=gettext_lazy("Coupons"), icon="confirmation_number", permissions=["view"])
    def detail_coupons(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:coupons_coupon_changelist") + f"?client={int(object_id)}"
        )


admin_extend(
    LicenseKey,
    KeyCardCoupons,
    # One menu: the key card's bar already holds the keys' and licensing's actions.
    actions_detail=[
        {
            "title": gettext_lazy("Coupons"),
            "icon": "confirmation_number",
            "items": ["detail_activate_coupon", "detail_upgrade_coupon", "detail_change_line"],
        }
    ],
    readonly_fields=["activations_display"],
    fieldsets=[
        (
            gettext_lazy("Activated coupons"),
            {"classes": ["tab"], "fields": ("activations_display",)},
        )
    ],
)
admin_extend(Client, ClientCardCoupons, actions_detail=["detail_coupons"])
