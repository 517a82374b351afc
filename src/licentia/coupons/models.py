from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from licentia.catalog.models import Product
from licentia.clients.models import Distributor
from licentia.core.models import User
from licentia.keys.models import KeyLine, LicenseKey


class CouponKind(models.TextChoices):
    NEW_PRODUCT = "new_product", _("Add a product")
    TRIAL_EXTEND = "trial_extend", _("Extend the trial of a product")
    UPGRADE = "upgrade", _("Change the composition of a product")


class Term(models.TextChoices):
    FIXED_DATE = "fixed", _("until a fixed date")
    DAYS = "days", _("days after activation")
    PERPETUAL = "perpetual", _("perpetual")


class Door(models.TextChoices):
    """Where an activation came from."""

    APPLICATION = "application", _("application")
    CABINET = "cabinet", _("vendor cabinet")
    CLIENT_CABINET = "client_cabinet", _("client cabinet")
    API = "api", _("API")


class CouponBatch(models.Model):
    """Codes generated at once (Генератор купонов): what they give and to whom they were sold.
    The codes of a batch give the same lines."""

    kind = models.CharField(_("kind"), max_length=16, choices=CouponKind.choices)
    reusable = models.BooleanField(
        _("reusable"), default=False, help_text=_("One code for everybody, once per client.")
    )
    # An upgrade coupon is bound to the key whose composition it changes; once that key is
    # deleted (only an empty key can be), the coupon fits no key.
    target_key = models.ForeignKey(
        LicenseKey,
        verbose_name=_("key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="upgrade_batches",
    )
    distributor = models.ForeignKey(
        Distributor,
        verbose_name=_("distributor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coupon_batches",
    )
    invoice_number = models.CharField(_("CRM invoice number"), max_length=64, blank=True)
    invoice_date = models.DateField(_("CRM invoice date"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    size = models.PositiveIntegerField(_("number of codes"))
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon batch")
        verbose_name_plural = _("coupon batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} × {self.size}"


class CouponLine(models.Model):
    """A product row of a batch: for new_product and upgrade a line the key will hold, for
    trial_extend the days added to the product's trial."""

    batch = models.ForeignKey(
        CouponBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    multiplier = models.PositiveIntegerField(
        _("multiplier"), default=1, validators=[MinValueValidator(1)]
    )
    term = models.CharField(_("term"), max_length=16, choices=Term.choices, default=Term.PERPETUAL)
    expires_at = models.DateTimeField(_("expiry"), null=True, blank=True)
    days = models.PositiveIntegerField(
        _("days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
    )
    # An upgrade's row that keeps (and may change) a line the key holds; empty: a new line.
    key_line = models.ForeignKey(
        KeyLine,
        verbose_name=_("line of the key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("coupon line")
        verbose_name_plural = _("coupon lines")
        ordering = ["batch_id", "id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.multiplier}"


class Coupon(models.Model):
    """A coupon code (Купон). A single-use one records the key that activated it."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    batch = models.ForeignKey(
        CouponBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="coupons"
    )
    blocked = models.BooleanField(_("blocked"), default=False)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    activated_key = models.ForeignKey(
        LicenseKey,
        verbose_name=_("activated on key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-batch_id", "id"]

    def __str__(self) -> str:
        return self.code


class Activation(models.Model):
    """A coupon activated on a key, with exactly what it changed: per line, the line before
    (None when the activation made it) and after, so that it can be undone."""

    coupon = models.ForeignKey(
        Coupon, verbose_name=_("coupon"), on_delete=models.PROTECT, related_name="activations"
    )
    # A key holding lines cannot be deleted; an activation that changed none goes with its key.
    key = models.ForeignKey(
        LicenseKey,
        verbose_name=_("license key"),
        on_delete=models.CASCADE,
        related_name="coupon_activations",
    )
    activated_at = models.DateTimeField(_("activated"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    door = models.CharField(_("from"), max_length=16, choices=Door.choices)
    actor_label = models.CharField(_("who"), max_length=200)
    actor_user = models.ForeignKey(
        User, verbose_name=_("staff user"), on_delete=models.SET_NULL, null=True, blank=True
    )
    changes = models.JSONField(_("changes"), default=list)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)
    deactivated_by = models.CharField(_("deactivated by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("coupon activation")
        verbose_name_plural = _("coupon activations")
        ordering = ["-activated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.coupon} → {self.key}"
