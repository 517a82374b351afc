"""API keys of the vendor REST API (/api/v1/)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from licentia.core import roles


class ApiRole(models.TextChoices):
    """The cabinet role whose rights a key has, by the short name scripts use."""

    FULL = "full", roles.FULL_ACCESS
    READONLY = "readonly", roles.READ_ONLY
    SUPPORT = "support", roles.SUPPORT
    SALES = "sales", roles.SALES


# The cabinet role (a group's name) of each API role.
ROLE_OF = {
    ApiRole.FULL: roles.FULL_ACCESS,
    ApiRole.READONLY: roles.READ_ONLY,
    ApiRole.SUPPORT: roles.SUPPORT,
    ApiRole.SALES: roles.SALES,
}


class ApiKey(models.Model):
    """A key of the vendor API: `Authorization: Bearer <id>.<secret>`. Only the SHA-256 of the
    secret is kept; the secret is shown once, when the key is made."""

    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=16, choices=ApiRole.choices)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"

    @property
    def cabinet_role(self) -> str:
        return ROLE_OF[ApiRole(self.role)]


class ApiKeyDay(models.Model):
    """Calls made with a key on one day (UTC), for "calls in the last 30 days"."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="api_key_day_unique")]

    def __str__(self) -> str:
        return f"{self.key_id} {self.day} {self.calls}"
