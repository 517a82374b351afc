import uuid
from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from licentia.catalog.models import Binding, Feature, LicenseType
from licentia.keys.models import KeyLine, LicenseKey


class EndReason(models.TextChoices):
    RELEASED = "released", _("released")
    TIMED_OUT = "timeout", _("timed out")
    RESET_BY_VENDOR = "reset_vendor", _("reset by vendor")
    RESET_BY_CLIENT = "reset_client", _("reset by client")
    KEY_BLOCKED = "key_blocked", _("key blocked")
    LICENSE_ENDED = "license_ended", _("license ended")


class Session(models.Model):
    """A seat held by a unit (Сессия / привязка). A floating seat is taken while its lease runs;
    a bound one until it is reset or idle past its limit, released or not."""

    public_id = models.UUIDField(_("session id"), default=uuid.uuid4, unique=True, editable=False)
    key = models.ForeignKey(
        LicenseKey, verbose_name=_("license key"), on_delete=models.CASCADE, related_name="sessions"
    )
    feature = models.ForeignKey(
        Feature, verbose_name=_("feature"), on_delete=models.PROTECT, related_name="sessions"
    )
    license_type = models.CharField(_("license type"), max_length=16, choices=LicenseType.choices)
    binding = models.CharField(_("binding"), max_length=16, choices=Binding.choices)
    unit = models.CharField(_("unit"), max_length=600)
    user = models.CharField(_("user"), max_length=200, blank=True)
    host = models.CharField(_("host"), max_length=200, blank=True)
    database = models.CharField(_("database"), max_length=200, blank=True)
    process_id = models.CharField(_("process"), max_length=64, blank=True)
    fingerprint = models.JSONField(_("machine fingerprint"), default=dict, blank=True)
    app_version = models.CharField(_("application version"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    started_at = models.DateTimeField(_("captured"))
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"))
    lease_expires_at = models.DateTimeField(_("lease end"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    # A bound seat unused past the product's idle limit is free; empty: never.
    bound_until = models.DateTimeField(_("bound until"), null=True, blank=True)
    # When the seat stops being held unless renewed: the lease end of a floating seat, the
    # idle limit of a bound one (empty: until reset). The one column the seat rule reads.
    holds_until = models.DateTimeField(_("holds the seat until"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(
        _("end reason"), max_length=16, choices=EndReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-started_at", "-id"]
        # No index holds the lease or the heartbeat time: a heartbeat then changes no indexed
        # column, and PostgreSQL updates the row in place (HOT) instead of adding an entry to
        # every index. The sweep reads the open sessions through the partial index.
        indexes = [
            models.Index(
                fields=["key", "feature", "unit"],
                condition=models.Q(ended_at__isnull=True),
                name="session_open_by_unit_idx",
            ),
            models.Index(fields=["-ended_at"], name="session_ended_idx"),
            # The statistics rollup reads a day's sessions by their start; the start never
            # changes after the capture, so a heartbeat still updates no indexed column.
            models.Index(fields=["started_at"], name="session_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.feature_id} {self.unit}"

    def holds_seat(self, moment: datetime) -> bool:
        """The seat rule (selectors.seat_held, queries.SEAT_HELD_SQL) for one session read."""
        return self.ended_at is None and (self.holds_until is None or self.holds_until > moment)


class Problem(models.Model):
    """Refused captures of one unit, for one reason, on one day (Проблема)."""

    key = models.ForeignKey(
        LicenseKey,
        verbose_name=_("license key"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="problems",
    )
    # As the application sent it: a refused key may be unknown or malformed.
    key_number = models.CharField(_("key as sent"), max_length=64)
    feature_id = models.PositiveIntegerField(_("feature"))
    unit = models.CharField(_("unit"), max_length=600)
    user = models.CharField(_("user"), max_length=200, blank=True)
    host = models.CharField(_("host"), max_length=200, blank=True)
    database = models.CharField(_("database"), max_length=200, blank=True)
    code = models.PositiveIntegerField(_("code"))
    day = models.DateField(_("day"))
    first_at = models.DateTimeField(_("first time"))
    last_at = models.DateTimeField(_("last time"))
    count = models.PositiveIntegerField(_("count"), default=1)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_number", "feature_id", "unit", "code", "day"],
                name="problem_one_row_a_day",
            )
        ]
        indexes = [models.Index(fields=["key", "-last_at"], name="problem_key_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.key_number} {self.feature_id} {self.unit}"


class TrialUseDay(models.Model):
    """A day on which a usage-counted trial line was used."""

    line = models.ForeignKey(KeyLine, on_delete=models.CASCADE, related_name="use_days")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line", "day"], name="trial_use_day_unique")]

    def __str__(self) -> str:
        return f"{self.line_id} {self.day}"


class MachineRegistration(models.Model):
    """A machine (by its fingerprint's hash) that took a trial, and under which e-mail."""

    fingerprint_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    key = models.ForeignKey(LicenseKey, on_delete=models.CASCADE, related_name="machines")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.fingerprint_hash[:12]} {self.email}"


class TokenConsumption(models.Model):
    """A line of the token ledger (Расход токенов)."""

    key = models.ForeignKey(
        LicenseKey,
        verbose_name=_("license key"),
        on_delete=models.CASCADE,
        related_name="token_consumptions",
    )
    feature = models.ForeignKey(
        Feature, verbose_name=_("feature"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.PositiveIntegerField(_("amount"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    balance_after = models.BigIntegerField(_("balance after"))
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("token consumption")
        verbose_name_plural = _("token consumption")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="token_consumption_idempotent",
            )
        ]
        indexes = [models.Index(fields=["key", "feature"], name="token_consumption_key_idx")]

    def __str__(self) -> str:
        return f"{self.key} {self.feature_id} −{self.amount}"
