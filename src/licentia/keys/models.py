from django.db import models
from django.utils.translation import gettext_lazy as _

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
