from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from licentia.catalog.models import Product
from licentia.clients.models import Client


class LicenseKey(models.Model):
    """A license key (Лицензионный ключ) of one client."""

    number = models.CharField(_("key"), max_length=32, unique=True)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="license_keys"
    )
    blocked = models.BooleanField(_("blocked"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("license key")
        verbose_name_plural = _("license keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class LineState(models.TextChoices):
    ACTIVE = "active", _("active")
    ENDED_BY_UPGRADE = "ended_upgrade", _("ended by an upgrade")
    ENDED_BY_PURCHASE = "ended_purchase", _("ended by a purchase")
    ENDED_BY_MANAGER = "ended_manager", _("ended by a manager")
    REMOVED_BY_COUPON = "removed_coupon", _("removed by coupon deactivation")


class KeyLine(models.Model):
    """A product held by a key (продукт в ключе)."""

    key = models.ForeignKey(
        LicenseKey, verbose_name=_("license key"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="key_lines"
    )
    multiplier = models.PositiveIntegerField(
        _("multiplier"), default=1, validators=[MinValueValidator(1)]
    )
    is_trial = models.BooleanField(_("trial"), default=False)
    starts_at = models.DateTimeField(_("start"))
    expires_at = models.DateTimeField(
        _("expiry"), null=True, blank=True, help_text=_("Empty: perpetual.")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=LineState.choices, default=LineState.ACTIVE
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Usage-counted trials: distinct days with a capture, recorded by the licensing protocol.
    used_days = models.PositiveIntegerField(_("days of use"), default=0)
    last_used_on = models.DateField(_("last day of use"), null=True, blank=True)
    # Days an extend-trial coupon gave a usage-counted trial beyond the product's length.
    trial_days_added = models.PositiveIntegerField(_("trial days added"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("product in the key")
        verbose_name_plural = _("products in the key")
        ordering = ["key_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(multiplier__gte=1), name="key_line_multiplier_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("starts_at")),
                name="key_line_expires_after_start",
            ),
        ]
        indexes = [models.Index(fields=["key", "state"], name="key_line_key_state_idx")]

    def __str__(self) -> str:
        return f"{self.product} × {self.multiplier}"
