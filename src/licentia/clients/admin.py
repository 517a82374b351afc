from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from licentia.cabinet.paginator import CappedCountPaginator
from licentia.clients.forms import EXTRA_PREFIX, ClientForm, extra_field_label
from licentia.clients.merge import MergeRefusedError, clients_merge, clients_merge_preview
from licentia.clients.models import Client, ClientFieldDefinition, Distributor
from licentia.clients.search import client_search
from licentia.clients.selectors import possible_duplicates
from licentia.clients.services import (
    client_create,
    client_delete,
    client_delete_blockers,
    client_update,
    clients_reindex_extra_field,
)
from licentia.core.admin import AuditedModelAdmin
from licentia.core.audit import Actor
from licentia.core.selectors import vendor_settings_get
from licentia.keys.services import license_key_generate


def _parse_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if value.strip().isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


def _seen_versions(request: HttpRequest, ids: list[int]) -> dict[int, datetime]:
    versions = {}
    for client_id in ids:
        seen = parse_datetime(request.POST.get(f"version_{client_id}", ""))
        if seen is not None:
            versions[client_id] = seen
    return versions


class RankedChangeList(ChangeList):
    """While searching, exact hits (a key, e-mail, INN, phone) come first."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        queryset = super().get_queryset(request, exclude_parameters)
        if "search_rank" not in queryset.query.annotations:
            return queryset
        return queryset.order_by("search_rank", *queryset.query.order_by)


@admin.register(Client)
class ClientAdmin(ModelAdmin):
    form = ClientForm
    list_display = ("company", "contact", "email", "phone", "crm_id1", "short_comment")
    list_display_links = ("company",)
    list_filter = ("source", "distributor", "manager")
    list_select_related = ("distributor", "manager")
    search_fields = ("company",)  # shows the search box; the search itself is client_search
    search_help_text = _(
        "Company, contact, phone in any format, e-mail, comment, CRM IDs, license key. "
        "When more than 2000 clients match, the newest 2000 are shown."
    )
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["merge_selected"]
    actions_list = ["list_duplicates"]
    actions_row = ["row_keys", "row_sessions", "row_delete"]
    actions_detail = [
        "detail_generate_key",
        "detail_keys",
        "detail_sessions",
        "detail_problems",
        "detail_mail",
    ]
    readonly_fields = (
        "license_keys_display",
        "refused_mail_display",
        "extra_display",
        "source",
        "created_at",
        "updated_at",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        read_only = obj is not None and not self.has_change_permission(request, obj)
        if read_only:
            extra_names = ["extra_display"]
        else:
            extra_names = [
                EXTRA_PREFIX + code
                for code in ClientFieldDefinition.objects.filter(archived=False).values_list(
                    "code", flat=True
                )
            ]
        fieldsets: list[tuple[Any, dict[str, Any]]] = [
            (
                None,
                {
                    "fields": (
                        "company",
                        "contact",
                        "phone",
                        "email",
                        "alert_email",
                        ("crm_id1", "crm_id2"),
                        *(() if read_only else ("accept_invalid_inn",)),
                        "manager",
                        "distributor",
                        "comment",
                        "language",
                    )
                },
            ),
        ]
        if extra_names:
            fieldsets.append((_("Additional fields"), {"fields": extra_names}))
        if obj is not None:
            fieldsets.append(
                (
                    _("Record"),
                    {
                        "fields": (
                            "license_keys_display",
                            "refused_mail_display",
                            "source",
                            "created_at",
                            "updated_at",
                        )
                    },
                )
            )
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # The additional fields are added by ClientForm itself, not declared on the model.
        kwargs["fields"] = ClientForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = [
            self._extra_column(definition)
            for definition in ClientFieldDefinition.objects.filter(
                show_in_list=True, archived=False
            )
        ]
        return (*self.list_display, *shown)

    @staticmethod
    def _extra_column(definition: ClientFieldDefinition) -> Any:
        def column(obj: Client) -> Any:
            return obj.extra.get(definition.code, "")

        column.short_description = extra_field_label(definition)  # type: ignore[attr-defined]
        column.__name__ = f"extra_{definition.code}"
        return column

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

    @admin.display(description=_("refused e-mail addresses"))
    def refused_mail_display(self, obj: Client) -> str:
        # The outbox (licentia.notifications) marks a mail whose address the server refused;
        # an address of the card whose latest mail was refused is shown here until it works.
        refused = []
        for address in dict.fromkeys(a for a in (obj.email, obj.alert_email) if a):
            latest = (
                obj.notifications.filter(recipient=address, status__in=["sent", "failed"])
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

    @admin.display(description=_("Additional fields"))
    def extra_display(self, obj: Client) -> str:
        rows = [
            (extra_field_label(definition), obj.extra[definition.code])
            for definition in ClientFieldDefinition.objects.filter(archived=False)
            if definition.code in obj.extra
        ]
        return format_html_join(mark_safe("<br>"), "{}: {}", rows) or "—"

    @admin.display(description=_("comment"))
    def short_comment(self, obj: Client) -> str:
        return Truncator(obj.comment).chars(60)

    def get_urls(self) -> list[Any]:
        merge = path(
            "merge/",
            self.admin_site.admin_view(self.merge_view),
            name="clients_client_merge",
        )
        duplicates = path(
            "duplicates/",
            self.admin_site.admin_view(self.duplicates_view),
            name="clients_client_duplicates",
        )
        return [merge, duplicates, *super().get_urls()]

    @admin.action(description=_("Merge the selected clients"), permissions=["delete"])
    def merge_selected(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse:
        # The ids in the order the boxes stand on the page; the first is offered as the main.
        ids = [value for value in request.POST.getlist(ACTION_CHECKBOX_NAME) if value.isdigit()]
        return HttpResponseRedirect(reverse("admin:clients_client_merge") + "?ids=" + ",".join(ids))

    def merge_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_delete_permission(request):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        ids = _parse_ids(
            source.getlist("ids") if request.method == "POST" else source.get("ids", "").split(",")
        )
        found = Client.objects.in_bulk(ids)
        clients = [found[client_id] for client_id in ids if client_id in found]
        changelist_url = reverse("admin:clients_client_changelist")
        if len(clients) < 2:
            messages.error(request, _("Choose at least two clients to merge."))
            return HttpResponseRedirect(changelist_url)
        main_id = _parse_ids([source.get("main", "")])
        main = next((client for client in clients if client.pk in main_id), clients[0])
        others = [client for client in clients if client.pk != main.pk]
        if request.method == "POST":
            try:
                merged = clients_merge(
                    main=main,
                    others=others,
                    actor=Actor.from_request(request),
                    fill=request.POST.getlist("fill"),
                    seen_versions=_seen_versions(request, ids),
                )
            except MergeRefusedError as refusal:
                messages.error(request, " ".join(refusal.messages))
                return HttpResponseRedirect(
                    reverse("admin:clients_client_merge")
                    + f"?ids={','.join(map(str, ids))}&main={main.pk}"
                )
            messages.success(
                request,
                _("%(count)d clients were merged into %(company)s.")
                % {"count": len(others) + 1, "company": merged.company},
            )
            return HttpResponseRedirect(reverse("admin:clients_client_change", args=[merged.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge of duplicates"),
            "clients": clients,
            "ids_param": ",".join(str(client.pk) for client in clients),
            "preview": clients_merge_preview(main=main, others=others),
            "cancel_url": changelist_url,
        }
        return TemplateResponse(request, "clients/merge.html", context)

    def duplicates_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Possible duplicates"),
            "groups": possible_duplicates(),
            "merge_url": reverse("admin:clients_client_merge"),
        }
        return TemplateResponse(request, "clients/duplicates.html", context)

    @action(description=_("Possible duplicates"), icon="content_copy", permissions=["view"])
    def list_duplicates(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:clients_client_duplicates"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Client], search_term: str
    ) -> tuple[QuerySet[Client], bool]:
        return client_search(query=search_term, queryset=queryset), False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RankedChangeList

    def save_model(self, request: HttpRequest, obj: Client, form: ModelForm, change: bool) -> None:
        assert isinstance(form, ClientForm)
        fields = form.service_fields()
        accept = form.cleaned_data.get("accept_invalid_inn", False)
        actor = Actor.from_request(request)
        if change:
            saved = client_update(client=obj, actor=actor, accept_invalid_inn=accept, **fields)
        else:
            saved = client_create(actor=actor, accept_invalid_inn=accept, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        """The client has no inline relations; everything was saved by the service."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        client = objs[0]
        keys = [
            format_html("{}: {}", _("license key"), key.number) for key in client.license_keys.all()
        ]
        card = format_html("{}: {}", _("client"), client.company)
        return [card, keys], {}, set(), client_delete_blockers(client)

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        client_delete(client=obj, actor=Actor.from_request(request))

    @action(description=_("License keys"), icon="key", permissions=["view"])
    def row_keys(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:keys_licensekey_changelist") + f"?client__id__exact={object_id}"
        )

    @action(description=_("Sessions"), icon="monitor_heart", permissions=["view"])
    def row_sessions(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:licensing_session_changelist") + f"?client={object_id}"
        )

    @action(description=_("Sessions"), icon="monitor_heart", permissions=["view"])
    def detail_sessions(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self.row_sessions(request, object_id)

    @action(description=_("Problems"), icon="report", permissions=["view"])
    def detail_problems(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:licensing_problem_changelist") + f"?key__client__id__exact={object_id}"
        )

    @action(description=_("Mail"), icon="mail", permissions=["view"])
    def detail_mail(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:notifications_notification_changelist")
            + f"?client__id__exact={object_id}"
        )

    @action(description=_("Delete"), icon="delete", permissions=["delete"])
    def row_delete(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:clients_client_delete", args=[object_id]))

    @action(description=_("License keys"), icon="key", permissions=["view"])
    def detail_keys(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self.row_keys(request, object_id)

    @action(
        description=_("Generate a new license key"),
        icon="add_circle",
        permissions=["generate_key"],
    )
    def detail_generate_key(self, request: HttpRequest, object_id: int) -> HttpResponse:
        client = get_object_or_404(Client, pk=object_id)
        card_url = reverse("admin:clients_client_change", args=[object_id])
        if request.method != "POST":
            # Generating a key changes data, so a plain link visit only asks for confirmation.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Generate a new license key"),
                "intro": _(
                    "An empty key (no products) with the prefix %(prefix)s will be generated "
                    "for %(company)s."
                )
                % {"prefix": vendor_settings_get().key_prefix, "company": client.company},
                "submit_label": _("Generate"),
                "cancel_url": card_url,
            }
            return TemplateResponse(request, "cabinet/form_page.html", context)
        key = license_key_generate(client=client, actor=Actor.from_request(request))
        messages.success(
            request, _("A new empty license key was generated: %(key)s") % {"key": key.number}
        )
        return HttpResponseRedirect(card_url)

    def has_generate_key_permission(self, request: HttpRequest, object_id: Any = None) -> bool:
        return request.user.has_perm("keys.add_licensekey")


@admin.register(Distributor)
class DistributorAdmin(AuditedModelAdmin):
    list_display = ("name", "email", "guid", "client_count")
    search_fields = ("name", "email", "guid", "comment")
    fields = ("name", "guid", "email", "comment")

    @admin.display(description=_("clients"))
    def client_count(self, obj: Distributor) -> int:
        return obj.clients.count()

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = []
        for distributor in objs:
            count = distributor.clients.count()
            if count:
                protected.append(
                    _("%(name)s: %(count)d clients belong to it; move them elsewhere first.")
                    % {"name": distributor.name, "count": count}
                )
        to_delete = [str(distributor) for distributor in objs]
        return to_delete, {}, set(), protected


@admin.register(ClientFieldDefinition)
class ClientFieldDefinitionAdmin(AuditedModelAdmin):
    list_display = ("label_ru", "code", "kind", "required", "show_in_list", "archived", "order")
    list_editable = ("order",)
    list_filter = ("archived", "kind")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # Stored values are keyed by the code, so it stays as created.
        return ("code",) if obj is not None else ()

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        clients_reindex_extra_field(code=form.instance.code)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = []
        for definition in objs:
            count = Client.objects.filter(extra__has_key=definition.code).count()
            if count:
                protected.append(
                    _("%(label)s: %(count)d clients have a value in it; archive it instead.")
                    % {"label": definition.label_ru, "count": count}
                )
        return [str(definition) for definition in objs], {}, set(), protected
