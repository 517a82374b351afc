from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licentia.core.audit_labels import action_label, actor_label


class User(AbstractUser):
    """A staff user of the vendor cabinet (manager); the role is given by a group."""

    language = models.CharField(
        _("interface language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        full_name = self.get_full_name()
        return f"{full_name} ({self.username})" if full_name else self.username


key_prefix_validator = RegexValidator(
    r"^[A-Z]{4}\Z", _("The prefix is exactly four Latin capital letters, e.g. DEMO.")
)


class VendorSettings(models.Model):
    """The vendor's settings: one row, with primary key 1."""

    SINGLETON_PK = 1

    key_prefix = models.CharField(
        _("key prefix"),
        max_length=4,
        default="DEMO",
        validators=[key_prefix_validator],
        help_text=_("Four Latin capital letters that start every license key and coupon."),
    )
    lease_seconds = models.PositiveIntegerField(
        _("lease time, seconds"),
        default=600,
        validators=[MinValueValidator(60), MaxValueValidator(86400)],
        help_text=_(
            "How long a floating seat stays taken without a heartbeat (60 seconds to 24 hours)."
        ),
    )
    offline_grace_days = models.PositiveIntegerField(
        _("offline grace, days"),
        default=7,
        validators=[MaxValueValidator(365)],
        help_text=_("How long a signed license certificate lets the application work offline."),
    )
    first_reminder_days = models.PositiveIntegerField(
        _("first expiry reminder, days before"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    second_reminder_days = models.PositiveIntegerField(
        _("second expiry reminder, days before"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    client_resets_per_30_days = models.PositiveIntegerField(
        _("self-service resets per key in 30 days"),
        default=5,
        validators=[MaxValueValidator(1000)],
        help_text=_(
            "How many seats a client may free itself in its cabinet, per key, in any 30 days; "
            "past it the client is asked to contact the vendor."
        ),
    )
    api_calls_per_minute = models.PositiveIntegerField(
        _("vendor API calls per key per minute"),
        default=600,
        validators=[MinValueValidator(1), MaxValueValidator(100000)],
        help_text=_("Calls past this rate get 429 with Retry-After."),
    )
    session_retention_days = models.PositiveIntegerField(
        _("keep ended sessions, days"),
        default=180,
        validators=[MinValueValidator(31), MaxValueValidator(3650)],
        help_text=_("Ended sessions older than this are deleted by the worker."),
    )
    backup_daily = models.BooleanField(
        _("daily backup"),
        default=False,
        help_text=_(
            "The worker writes a backup of the database once a day into the backup directory "
            "(LICENTIA_BACKUP_DIR, else backups in the data directory)."
        ),
    )
    backup_keep = models.PositiveIntegerField(
        _("daily backups kept"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Older daily backups are deleted from the backup directory."),
    )
    signing_public_key = models.CharField(
        _("signing public key"), max_length=64, editable=False, default=""
    )
    signing_private_key_encrypted = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("vendor settings")
        verbose_name_plural = _("vendor settings")
        default_permissions = ("view", "change")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="vendor_settings_is_a_singleton"),
            models.CheckConstraint(
                condition=models.Q(first_reminder_days__gt=models.F("second_reminder_days")),
                name="vendor_settings_first_reminder_before_second",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Vendor settings"))


class ActorKind(models.TextChoices):
    STAFF = "staff", _("staff user")
    API_KEY = "api_key", _("API key")
    APPLICATION = "application", _("application")
    CLIENT = "client", _("client")
    SYSTEM = "system", _("system")


class AuditEvent(models.Model):
    """One change, written in the same transaction as the change it records."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("who"), max_length=200, db_index=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("user actions log")
        default_permissions = ("view",)
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        moment = (
            f"{timezone.localtime(self.created_at):%d.%m.%Y %H:%M:%S} " if self.created_at else ""
        )
        who = actor_label(self.actor_label, self.actor_kind)
        return f"{moment}{who}: {action_label(self.action, self.object_type)}"


class RateWindow(models.Model):
    """Requests counted per scope and caller in a fixed time window, shared by all workers."""

    scope = models.CharField(max_length=32)
    caller = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "caller", "window_start"], name="rate_window_one_per_caller"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.caller} {self.hits}"


class BackupKind(models.TextChoices):
    MANUAL = "manual", _("by command")
    DAILY = "daily", _("daily, by the worker")


class BackupStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class BackupRun(models.Model):
    """One backup of the database: where it was written, how big, and whether it succeeded."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=BackupKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=BackupStatus.choices, default=BackupStatus.RUNNING
    )
    path = models.CharField(_("file"), max_length=500, blank=True)
    size = models.BigIntegerField(_("size, bytes"), null=True, blank=True)
    schema = models.CharField(_("schema version"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    removed_at = models.DateTimeField(_("file removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        default_permissions = ("view",)
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"
