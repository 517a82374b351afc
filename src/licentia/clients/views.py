"""The client list's own pages: the merge of duplicates and the list of possible duplicates.
They are served by the cabinet's client admin, which checks the user's permissions."""

from contextlib import suppress
from datetime import datetime

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from licentia.clients.merge import MergeRefusedError, clients_merge, clients_merge_preview
from licentia.clients.models import Client
from licentia.clients.selectors import possible_duplicates
from licentia.core.admin import cabinet_page
from licentia.core.audit import Actor
from licentia.core.normalize import row_id


def _parse_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        found = row_id(value)
        if found is not None and found not in ids:
            ids.append(found)
    return ids


def _seen_versions(request: HttpRequest, ids: list[int]) -> dict[int, datetime]:
    versions = {}
    for client_id in ids:
        with suppress(ValueError):  # well formed but no such time: a tampered form
            seen = parse_datetime(request.POST.get(f"version_{client_id}", ""))
            if seen is not None:
                versions[client_id] = seen
    return versions


def clients_merge_view(request: HttpRequest, model_admin: ModelAdmin) -> HttpResponse:
    if not model_admin.has_delete_permission(request):
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
    return cabinet_page(
        model_admin,
        request,
        "clients/merge.html",
        title=_("Merge of duplicates"),
        clients=clients,
        ids_param=",".join(str(client.pk) for client in clients),
        preview=clients_merge_preview(main=main, others=others),
        cancel_url=changelist_url,
    )


def clients_duplicates_view(request: HttpRequest, model_admin: ModelAdmin) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    return cabinet_page(
        model_admin,
        request,
        "clients/duplicates.html",
        title=_("Possible duplicates"),
        groups=possible_duplicates(),
        merge_url=reverse("admin:clients_client_merge"),
    )
