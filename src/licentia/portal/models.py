"""The client cabinet's own records: who may sign in, the one-time links, the sessions. Tokens
are kept only as their SHA-256 hashes."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licentia.clients.models import Client


class SignInAddress(models.Model):
    """An address the client added in its cabinet's settings, besides the card's e-mail and
    alert e-mail, that may ask for a sign-in link."""

    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="sign_in_addresses",
    )
    email = models.EmailField(_("e-mail"))
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("client cabinet sign-in address")
        verbose_name_plural = _("client cabinet sign-in addresses")
        ordering = ["email", "id"]
        indexes = [models.Index(fields=["client", "email"], name="portal_address_client_idx")]

    def __str__(self) -> str:
        return self.email


class SignInLink(models.Model):
    """A one-time link that opens the client's cabinet for one address, for a short time."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.CharField(_("issued by"), max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("client cabinet sign-in link")
        verbose_name_plural = _("client cabinet sign-in links")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"


class PortalSession(models.Model):
    """A signed-in browser of a client user, until it signs out or the time runs out."""

    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="portal_sessions",
    )
    email = models.EmailField(_("e-mail"))
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    expires_at = models.DateTimeField(_("valid until"))
    last_seen_at = models.DateTimeField(_("last seen"))
    ended_at = models.DateTimeField(_("signed out"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("client cabinet session")
        verbose_name_plural = _("client cabinet sessions")
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        indexes = [models.Index(fields=["client", "ended_at"], name="portal_session_client_idx")]

    def __str__(self) -> str:
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"
