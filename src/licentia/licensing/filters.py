"""The session monitor's filters: each value validated by its form field, so input that is
not a client, a key, a feature, a type or a time is shown as a field error and ignored."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.validators import MinValueValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from licentia.catalog.models import Feature, LicenseType
from licentia.clients.search import client_search
from licentia.core import keycodes
from licentia.core.normalize import row_id
from licentia.licensing.models import Session

SEAT_TYPE_CHOICES = [choice for choice in LicenseType.choices if choice[0] != LicenseType.TOKEN]
# Earlier times cannot be stored in every time zone; no session is older anyway.
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)


class MonitorFilter(django_filters.FilterSet):
    """The client is an id (from its card) or words as the clients' quick search takes them;
    the key an id or its number in any formatting; user, host and database match a part, in
    any letter case; `since` bounds the history."""

    client = django_filters.CharFilter(label=_("client"), method="filter_client")
    key = django_filters.CharFilter(label=_("license key"), method="filter_key")
    feature = django_filters.ModelChoiceFilter(label=_("feature"), queryset=Feature.objects.all())
    type = django_filters.ChoiceFilter(
        label=_("license type"), field_name="license_type", choices=SEAT_TYPE_CHOICES
    )
    user = django_filters.CharFilter(label=_("user"), lookup_expr="icontains")
    host = django_filters.CharFilter(label=_("host"), lookup_expr="icontains")
    database = django_filters.CharFilter(label=_("database"), lookup_expr="icontains")
    since = django_filters.DateTimeFilter(
        label=_("ended since"), field_name="ended_at", lookup_expr="gte"
    )

    class Meta:
        model = Session
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form.fields["since"].validators.append(MinValueValidator(EARLIEST))
        self.form.fields["since"].widget = forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        )

    def filter_client(self, queryset: QuerySet[Session], name: str, value: str) -> QuerySet:
        client_id = row_id(value)
        if client_id is not None:
            return queryset.filter(key__client_id=client_id)
        # The clients' quick search: any case, Cyrillic included, on both databases.
        return queryset.filter(key__client__in=client_search(query=value).order_by().values("pk"))

    def filter_key(self, queryset: QuerySet[Session], name: str, value: str) -> QuerySet:
        key_id = row_id(value)
        if key_id is not None:
            return queryset.filter(key_id=key_id)
        return queryset.filter(key__number=keycodes.key_number(value) or value.strip())
