"""Distributions (дистрибутивы) and their releases: what the vendor ships, the links to its
files, and who is mailed when a release comes out."""

import uuid
from ipaddress import ip_network

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from licentia.catalog.models import Feature, Product
from licentia.clients.models import Client
from licentia.keys.models import LicenseKey
from licentia.releases.versions import version_validator

IMAGE_EXTENSIONS = ["png", "jpg", "jpeg", "gif", "webp"]
image_validator = FileExtensionValidator(IMAGE_EXTENSIONS)
identifier_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\Z",
    _("Latin letters, digits, dots, dashes and underscores, starting with a letter or digit."),
)
md5_validator = RegexValidator(r"^[0-9a-f]{32}\Z", _("32 hexadecimal digits in lower case."))
sha256_validator = RegexValidator(r"^[0-9a-f]{64}\Z", _("64 hexadecimal digits in lower case."))


def _in_language(ru: str, en: str) -> str:
    return en if (get_language() or "ru").startswith("en") and en else ru


def logo_path(instance: models.Model, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"releases/logos/{uuid.uuid4().hex}.{extension}"


def screenshot_path(instance: models.Model, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"releases/screenshots/{uuid.uuid4().hex}.{extension}"


class DistributionKind(models.TextChoices):
    CONFIGURATION = "configuration", _("configuration")
    EXTENSION = "extension", _("extension")
    EXTERNAL_PROCESSING = "external_processing", _("external processing")
    OTHER = "other", _("other")


class Distribution(models.Model):
    """A distribution (Дистрибутив): a configuration, extension or processing the vendor ships
    in releases."""

    published = models.BooleanField(
        _("published"), default=True, help_text=_("Off: none of its releases is offered.")
    )
    identifier = models.CharField(
        _("identifier"),
        max_length=100,
        unique=True,
        validators=[identifier_validator],
        help_text=_("What the installer sends as TYPE."),
    )
    paid = models.BooleanField(
        _("paid"),
        default=True,
        help_text=_("Off: every valid key may have its releases."),
    )
    developer = models.CharField(_("developer"), max_length=200, blank=True)
    kind = models.CharField(
        _("type"),
        max_length=32,
        choices=DistributionKind.choices,
        default=DistributionKind.CONFIGURATION,
    )
    extra_info = models.TextField(
        _("additional information"),
        blank=True,
        help_text=_("Passed through the publishing API as it is."),
    )
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    documentation_url = models.URLField(_("documentation link"), max_length=500, blank=True)
    eula_ru = models.TextField(_("license agreement (Russian)"), blank=True)
    eula_en = models.TextField(_("license agreement (English)"), blank=True)
    feature = models.ForeignKey(
        Feature,
        verbose_name=_("feature for releases"),
        # The catalog knows nothing of distributions: deleting the feature empties the field.
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="distributions",
        help_text=_(
            "A key that holds or held this feature may have the releases published while its "
            "line was live; after the line ends, newer releases need a renewal."
        ),
    )
    trial_product = models.ForeignKey(
        Product,
        verbose_name=_("product for a subscription trial"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trial_distributions",
        help_text=_("A key without the feature gets this product's trial on its first request."),
    )
    linked_products = models.ManyToManyField(
        Product,
        verbose_name=_("linked products"),
        blank=True,
        related_name="distributions",
        help_text=_("A key holding any of them may have every release."),
    )
    logo = models.FileField(
        _("logo"), upload_to=logo_path, blank=True, validators=[image_validator]
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["name_ru", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _in_language(self.name_ru, self.name_en)

    @property
    def description(self) -> str:
        return _in_language(self.description_ru, self.description_en)

    @property
    def eula(self) -> str:
        return _in_language(self.eula_ru, self.eula_en)


class Screenshot(models.Model):
    distribution = models.ForeignKey(
        Distribution,
        verbose_name=_("distribution"),
        on_delete=models.CASCADE,
        related_name="screenshots",
    )
    image = models.FileField(_("image"), upload_to=screenshot_path, validators=[image_validator])
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("screenshot")
        verbose_name_plural = _("screenshots")
        ordering = ["distribution_id", "position", "id"]

    def __str__(self) -> str:
        return self.caption or self.image.name


class Release(models.Model):
    """A version of a distribution (Релиз)."""

    distribution = models.ForeignKey(
        Distribution,
        verbose_name=_("distribution"),
        on_delete=models.CASCADE,
        related_name="releases",
    )
    version = models.CharField(
        _("version"),
        max_length=64,
        validators=[version_validator],
        help_text=_("Dotted numbers, e.g. 4.0.10; compared as numbers, not as text."),
    )
    released_on = models.DateField(_("release date"))
    prerelease = models.BooleanField(
        _("pre-release, not available to clients"),
        default=False,
        help_text=_("Offered only to the IP networks listed in the release settings."),
    )
    whats_new_ru = models.TextField(_("what's new (Russian)"), blank=True)
    whats_new_en = models.TextField(_("what's new (English)"), blank=True)
    min_platform_version = models.CharField(
        _("minimal platform version"),
        max_length=64,
        blank=True,
        validators=[version_validator],
        help_text=_("Of 1C:Enterprise, e.g. 8.3.24.1467."),
    )
    # When the release mail goes out (set on publishing, cleared on withdrawal) and whether
    # its recipients were chosen.
    mail_due_at = models.DateTimeField(_("release mail due"), null=True, blank=True)
    mail_planned = models.BooleanField(_("release mail planned"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["distribution_id", "-released_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "version"], name="release_version_unique"
            )
        ]
        indexes = [models.Index(fields=["mail_planned", "mail_due_at"], name="release_mail_idx")]

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}"

    @property
    def whats_new(self) -> str:
        return _in_language(self.whats_new_ru, self.whats_new_en)


class Compatibility(models.Model):
    """A configuration the release is marked compatible with, in a range of its versions."""

    release = models.ForeignKey(
        Release,
        verbose_name=_("release"),
        on_delete=models.CASCADE,
        related_name="compatibility",
    )
    configuration = models.CharField(
        _("configuration"), max_length=200, help_text=_("As the installer sends it in CONF.")
    )
    min_version = models.CharField(
        _("from version"), max_length=64, blank=True, validators=[version_validator]
    )
    max_version = models.CharField(
        _("to version"), max_length=64, blank=True, validators=[version_validator]
    )

    class Meta:
        verbose_name = _("compatible configuration")
        verbose_name_plural = _("compatible configurations")
        ordering = ["release_id", "id"]

    def __str__(self) -> str:
        return f"{self.configuration} {self.min_version}–{self.max_version}"


class ReleaseFile(models.Model):
    """A file of a release, hosted by the vendor: the service keeps its link and checksums."""

    release = models.ForeignKey(
        Release, verbose_name=_("release"), on_delete=models.CASCADE, related_name="files"
    )
    name = models.CharField(_("file name"), max_length=255)
    url = models.URLField(_("download URL"), max_length=1000)
    size = models.PositiveBigIntegerField(_("size, bytes"), default=0)
    md5 = models.CharField(_("MD5"), max_length=32, blank=True, validators=[md5_validator])
    sha256 = models.CharField(
        _("SHA-256"), max_length=64, blank=True, validators=[sha256_validator]
    )
    downloads = models.PositiveBigIntegerField(_("downloads"), default=0, editable=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("release file")
        verbose_name_plural = _("release files")
        ordering = ["release_id", "position", "id"]

    def __str__(self) -> str:
        return self.name


class ReleaseSettings(models.Model):
    """Settings of the releases: one row, with primary key 1."""

    SINGLETON_PK = 1

    cdn_host = models.CharField(
        _("CDN host"),
        max_length=255,
        blank=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9]([A-Za-z0-9\-.]*[A-Za-z0-9])?(:[0-9]{1,5})?\Z",
                _("A host name, optionally with a port, e.g. cdn.example.ru."),
            )
        ],
        help_text=_("Replaces the origin host in every download link handed out; empty: none."),
    )
    prerelease_networks = models.TextField(
        _("IP networks that see pre-releases"),
        blank=True,
        help_text=_("One network a line, e.g. 203.0.113.0/24 or 2001:db8::/32."),
    )
    mail_delay_minutes = models.PositiveIntegerField(
        _("release mail delay, minutes"),
        default=120,
        help_text=_("How long after publishing the mail waits, so a bad release can be withdrawn."),
    )
    mail_daily_limit = models.PositiveIntegerField(
        _("release mails a day"),
        default=500,
        validators=[MinValueValidator(1)],
        help_text=_("At most this many release mails go out in a day; the rest wait."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("release settings")
        verbose_name_plural = _("release settings")

    def __str__(self) -> str:
        return str(_("Release settings"))

    def clean(self) -> None:
        wrong = []
        for line in self.prerelease_networks.splitlines():
            try:
                ip_network(line.strip(), strict=False)
            except ValueError:
                if line.strip():
                    wrong.append(line.strip())
        if wrong:
            raise ValidationError(
                {
                    "prerelease_networks": _("Not an IP network: %(networks)s.")
                    % {"networks": ", ".join(wrong)}
                }
            )


class MailState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


class ReleaseMail(models.Model):
    """The new-release mail of one client: each client once per release."""

    release = models.ForeignKey(
        Release, verbose_name=_("release"), on_delete=models.CASCADE, related_name="mails"
    )
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="release_mails"
    )
    key = models.ForeignKey(
        LicenseKey, verbose_name=_("license key"), on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=MailState.choices, default=MailState.PENDING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("release mail")
        verbose_name_plural = _("release mails")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "client"], name="release_mail_once")
        ]
        indexes = [models.Index(fields=["state", "sent_at"], name="release_mail_state_idx")]

    def __str__(self) -> str:
        return f"{self.release} → {self.client}"
