from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from licentia.clients.forms import EXTRA_PREFIX, ClientForm, extra_field_label
from licentia.clients.models import Client, ClientFieldDefinition, Distributor
from licentia.clients.search import client_search
from licentia.clients.services import (
    client_create,
    client_delete,
    client_delete_blockers,
    client_field_delete,
    client_field_delete_blockers,
    client_update,
    clients_reindex_extra_field,
    distributor_delete,
    distributor_delete_blockers,
)
from licentia.clients.views import clients_duplicates_view, clients_merge_view
from licentia.core.admin import AuditedModelAdmin
from licentia.core.audit import Actor
from licentia.core.paginator import CappedCountPaginator


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
    list_display: tuple[str, ...] = (
        "company",
        "contact",
        "email",
        "phone_display",
        "crm_id1",
        "short_comment",
    )
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
    # The keys app shows the client's keys on the card and in the list, and generates keys
    # (keys.admin.ClientCardAdmin extends these).
    actions_row = ["row_sessions", "row_delete"]
    actions_detail = ["detail_sessions", "detail_problems"]
    readonly_fields: tuple[str, ...] = ("extra_display", "source", "created_at", "updated_at")
    record_fields: tuple[str, ...] = ("source", "created_at", "updated_at")

    class Media:
        js = ("clients/client_list.js",)

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
                    {"fields": self.record_fields},
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

    @admin.display(description=_("Additional fields"))
    def extra_display(self, obj: Client) -> str:
        rows = [
            (extra_field_label(definition), obj.extra[definition.code])
            for definition in ClientFieldDefinition.objects.filter(archived=False)
            if definition.code in obj.extra
        ]
        return format_html_join(mark_safe("<br>"), "{}: {}", rows) or "—"

    @admin.display(description=_("phone"), ordering="phone")
    def phone_display(self, obj: Client) -> str:
        return format_html('<span class="lc-nowrap">{}</span>', obj.phone) if obj.phone else ""

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
        return clients_merge_view(request, self)

    def duplicates_view(self, request: HttpRequest) -> HttpResponse:
        return clients_duplicates_view(request, self)

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

    def deleted_with(self, client: Client) -> list[str]:
        """What goes with the client, as the delete page lists it."""
        return []

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        client = objs[0]
        card = format_html("{}: {}", _("client"), client.company)
        return [card, self.deleted_with(client)], {}, set(), client_delete_blockers(client)

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        client_delete(client=obj, actor=Actor.from_request(request))

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

    @action(description=_("Delete"), icon="delete", permissions=["delete"])
    def row_delete(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:clients_client_delete", args=[object_id]))


@admin.register(Distributor)
class DistributorAdmin(AuditedModelAdmin):
    list_display = ("name", "email", "guid", "client_count")
    search_fields = ("name", "email", "guid", "comment")
    fields = ("name", "guid", "email", "comment")

    @admin.display(description=_("clients"))
    def client_count(self, obj: Distributor) -> int:
        return obj.clients.count()

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = [reason for item in objs for reason in distributor_delete_blockers(item)]
        return [str(distributor) for distributor in objs], {}, set(), protected

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, Distributor)
        distributor_delete(distributor=obj, actor=Actor.from_request(request))


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
        protected = [reason for item in objs for reason in client_field_delete_blockers(item)]
        return [str(definition) for definition in objs], {}, set(), protected

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, ClientFieldDefinition)
        client_field_delete(definition=obj, actor=Actor.from_request(request))
