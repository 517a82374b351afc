from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("waiting for the column mapping")
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ImportBatch(models.Model):
    """One import of a file of clients, keys and products from the vendor's previous service."""

    created_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    actor_label = models.CharField(_("who"), max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_name = models.CharField(_("file"), max_length=300)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    rows_failed = models.PositiveIntegerField(_("rows refused"), default=0)
    clients_created = models.PositiveIntegerField(_("clients created"), default=0)
    clients_updated = models.PositiveIntegerField(_("clients updated"), default=0)
    keys_created = models.PositiveIntegerField(_("keys created"), default=0)
    lines_created = models.PositiveIntegerField(_("products added"), default=0)
    errors = models.JSONField(_("errors by row"), default=list, blank=True)
    # The uploaded file while a cabinet import waits for the worker; emptied when it is done.
    source = models.BinaryField(editable=False, default=b"")
    failure = models.TextField(_("failure"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        default_permissions = ("view", "add")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.created_at:%Y-%m-%d %H:%M}"
