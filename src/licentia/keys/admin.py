from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from licentia.core import keycodes
from licentia.core.normalize import search_normalize
from licentia.keys.models import LicenseKey


@admin.register(LicenseKey)
class LicenseKeyAdmin(ModelAdmin):
    list_display = ("number", "client", "client_email", "blocked", "created_at")
    list_select_related = ("client",)
    list_filter = ("blocked",)
    search_fields = ("number",)
    search_help_text = _("Key in any formatting, company or e-mail")
    fields = ("number", "client", "blocked", "created_at", "updated_at")
    readonly_fields = fields
    actions = None

    @admin.display(description=_("e-mail"))
    def client_email(self, obj: LicenseKey) -> str:
        return obj.client.email

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LicenseKey], search_term: str
    ) -> tuple[QuerySet[LicenseKey], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        parsed = keycodes.parse_code(term, prefix_length=keycodes.PREFIX_LENGTH)
        condition = Q(client__search_text__contains=search_normalize(term))
        if parsed is not None:
            condition |= Q(number=keycodes.format_code(*parsed))
        else:
            condition |= Q(number__icontains=term)
        return queryset.filter(condition), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are generated from the client card, numbered by the service.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
