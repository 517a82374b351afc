from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class LocalizedNameMixin(models.Model):
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        if get_language() == "en" and self.name_en:
            return self.name_en
        return self.name_ru


class Feature(LocalizedNameMixin):
    """A protected function of the application (Фича), known to it by its integer id."""

    id = models.PositiveIntegerField(_("id"), primary_key=True)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        verbose_name = _("feature")
        verbose_name_plural = _("features")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class DeletedFeatureId(models.Model):
    """An id of a deleted feature: applications may still ask for it, so it is never reused."""

    id = models.PositiveIntegerField(primary_key=True)
    deleted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.id)


class TrialCounting(models.TextChoices):
    CALENDAR = "calendar", _("calendar days")
    USAGE = "usage", _("days of actual use")


class Product(LocalizedNameMixin):
    """A product (Продукт): what a key holds, made of feature lines."""

    id = models.PositiveIntegerField(_("id"), primary_key=True)
    crm_guid = models.CharField(_("CRM GUID"), max_length=64, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    retired = models.BooleanField(_("retired"), default=False)
    activation_text_ru = models.TextField(_("activation e-mail text (Russian)"), blank=True)
    activation_text_en = models.TextField(_("activation e-mail text (English)"), blank=True)
    trial_days = models.PositiveIntegerField(
        _("trial length, days"),
        default=0,
        validators=[MaxValueValidator(3650)],
        help_text=_("0: the product gives no trial."),
    )
    trial_counting = models.CharField(
        _("trial days are counted as"),
        max_length=16,
        choices=TrialCounting.choices,
        default=TrialCounting.CALENDAR,
    )
    permanent_instead_of_trial = models.BooleanField(
        _("give a permanent license instead of a trial"), default=False
    )
    ends_trials = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="ended_by",
        verbose_name=_("trial products this product ends when activated"),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["crm_guid"],
                condition=~models.Q(crm_guid=""),
                name="catalog_product_crm_guid_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class LicenseType(models.TextChoices):
    USER = "USER", _("per user")
    HOST = "HOST", _("per host")
    DATABASE = "DATABASE", _("per database")
    PROCESS = "PROCESS", _("per process")
    TOKEN = "TOKEN", _("tokens")


class Binding(models.TextChoices):
    FLOATING = "floating", _("floating")
    BOUND = "bound", _("bound")


DEFAULT_BINDING: dict[str, str] = {
    LicenseType.USER: Binding.FLOATING,
    LicenseType.HOST: Binding.BOUND,
    LicenseType.DATABASE: Binding.BOUND,
    LicenseType.PROCESS: Binding.FLOATING,
}


class ProductFeature(models.Model):
    """A feature line of a product: the feature, how it is counted and how many."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="lines"
    )
    feature = models.ForeignKey(
        Feature, verbose_name=_("feature"), on_delete=models.PROTECT, related_name="product_lines"
    )
    license_type = models.CharField(_("license type"), max_length=16, choices=LicenseType.choices)
    count = models.PositiveIntegerField(
        _("count"),
        validators=[MinValueValidator(1)],
        help_text=_("Seats, or for TOKEN the number of tokens."),
    )
    multiplier_allowed = models.BooleanField(_("multiplier allowed"), default=False)
    binding = models.CharField(
        _("binding"),
        max_length=16,
        choices=Binding.choices,
        blank=True,
        help_text=_(
            "Empty: the default of the type (USER, PROCESS floating; HOST, DATABASE bound)."
        ),
    )
    idle_limit_days = models.PositiveIntegerField(
        _("bound seat idle limit, days"),
        null=True,
        blank=True,
        help_text=_("A bound seat unused this long is freed; empty: never."),
    )

    class Meta:
        verbose_name = _("feature line")
        verbose_name_plural = _("feature lines")
        ordering = ["product_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count__gte=1), name="product_feature_count_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.license_type} {self.feature}"

    @property
    def effective_binding(self) -> str:
        return effective_binding(self.license_type, self.binding)


def effective_binding(license_type: str, binding: str) -> str:
    """How a feature line's seats are held: its own binding, else its type's default; tokens
    are not bound at all."""
    if license_type == LicenseType.TOKEN:
        return ""
    return binding or DEFAULT_BINDING.get(license_type, "")
