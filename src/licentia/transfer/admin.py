"""Настройки → Импорт: upload a file, map its columns with a preview, run (or dry-run) it on
the worker, and follow its progress and refused rows."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from unfold.admin import ModelAdmin

from licentia.core.admin import cabinet_page
from licentia.core.audit import Actor
from licentia.transfer.forms import MappingForm, UploadForm
from licentia.transfer.models import ImportBatch, ImportStatus
from licentia.transfer.reading import table_read
from licentia.transfer.services import import_batch_start, import_mapping_guess, mapping_clean
from licentia.transfer.tasks import import_process

PREVIEW_ROWS = 10
ADD = "transfer.add_importbatch"


@admin.register(ImportBatch)
class ImportBatchAdmin(ModelAdmin):
    list_display = (
        "created_at",
        "file_name",
        "actor_label",
        "dry_run",
        "status",
        "rows_total",
        "rows_failed",
        "clients_created",
        "clients_updated",
        "keys_created",
        "lines_created",
    )
    list_filter = ("status", "dry_run")
    search_fields = ("file_name", "actor_label")

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        def view(function: Any, route: str, name: str) -> Any:
            return path(route, self.admin_site.admin_view(function), name=name)

        return [
            view(self.mapping_view, "<int:batch_id>/mapping/", "transfer_importbatch_mapping"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not request.user.has_perm(ADD):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                table = table_read(data, file_name=upload.name)
            except ValidationError as error:
                form.add_error("file", error)
            else:
                batch = import_batch_start(
                    file_name=upload.name,
                    actor=Actor.from_request(request),
                    dry_run=False,
                    mapping=import_mapping_guess(table),
                    source=data,
                )
                ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.DRAFT)
                return HttpResponseRedirect(
                    reverse("admin:transfer_importbatch_mapping", args=[batch.pk])
                )
        return cabinet_page(
            self,
            request,
            title=_("Import clients and keys"),
            intro=_(
                "Clients are matched by CRM ID1, e-mail or key number, so a file imported again "
                "changes nothing. Keys keep the numbers the clients already use."
            ),
            form=form,
            multipart=True,
            submit_label=_("Upload and preview"),
            cancel_url=reverse("admin:transfer_importbatch_changelist"),
        )

    def mapping_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        if not request.user.has_perm(ADD):
            raise PermissionDenied
        batch = get_object_or_404(ImportBatch, pk=batch_id, status=ImportStatus.DRAFT)
        table = table_read(bytes(batch.source), file_name=batch.file_name)
        form = MappingForm(request.POST or None, headers=table.headers, guessed=batch.mapping)
        if request.method == "POST" and form.is_valid():
            try:
                mapping = mapping_clean(table, form.mapping())
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                with transaction.atomic():
                    ImportBatch.objects.filter(pk=batch.pk).update(
                        mapping=mapping,
                        dry_run=form.cleaned_data["dry_run"],
                        status=ImportStatus.QUEUED,
                        rows_total=len(table.rows),
                    )
                    transaction.on_commit(lambda: import_process.enqueue(batch.pk))
                messages.success(request, _("The import is queued; this page shows its progress."))
                return HttpResponseRedirect(
                    reverse("admin:transfer_importbatch_change", args=[batch.pk])
                )
        preview = [
            [cell if cell is not None else "" for cell in row]
            for _n, row in table.rows[:PREVIEW_ROWS]
        ]
        return cabinet_page(
            self,
            request,
            "transfer/mapping.html",
            title=_("Column mapping: %(file)s") % {"file": batch.file_name},
            batch=batch,
            form=form,
            headers=table.headers,
            columns=[form[f"column_{index}"] for index in range(len(table.headers))],
            preview=preview,
            rows=len(table.rows),
            cancel_url=reverse("admin:transfer_importbatch_changelist"),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(ImportBatch, pk=object_id if object_id.isdigit() else 0)
        if batch.status == ImportStatus.DRAFT:
            return HttpResponseRedirect(
                reverse("admin:transfer_importbatch_mapping", args=[batch.pk])
            )
        running = batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
        percent = int(100 * batch.rows_done / batch.rows_total) if batch.rows_total else 100
        return cabinet_page(
            self,
            request,
            "transfer/status.html",
            title=str(batch),
            batch=batch,
            running=running,
            percent=percent,
            list_url=reverse("admin:transfer_importbatch_changelist"),
        )
