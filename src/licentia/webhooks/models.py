"""Webhooks: a CRM's URL told of events as they happen, and every delivery with its answer."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    CLIENT_CREATED = "client.created", _("client created")
    CLIENT_UPDATED = "client.updated", _("client changed")
    CLIENT_MERGED = "client.merged", _("clients merged")
    CLIENT_DELETED = "client.deleted", _("client deleted")
    TRIAL_CREATED = "trial.created", _("trial taken")
    COUPON_ACTIVATED = "coupon.activated", _("coupon activated")
    COUPON_DEACTIVATED = "coupon.deactivated", _("coupon deactivated")
    LICENSE_PROBLEM = "license.problem", _("license problem")
    LINE_EXPIRING = "line.expiring", _("product line expiring")
    LINE_EXPIRED = "line.expired", _("product line expired")
    SESSION_RESET = "session.reset", _("session reset")


class Webhook(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    # Sealed (licentia.core.sealing): the secret signs every delivery, so it is kept openable.
    secret_sealed = models.TextField(editable=False, default="")
    active = models.BooleanField(_("on"), default=True)
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("delivered")
    FAILED = "failed", _("failed")


class WebhookDelivery(models.Model):
    """One event for one webhook, written in the transaction of the event and sent by the
    worker; retried with a growing pause for a day."""

    webhook = models.ForeignKey(
        Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries"
    )
    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    # For events a scan finds (a line expiring) or that repeat (problems): written once.
    dedupe_key = models.CharField(max_length=200, blank=True, default="")
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    response_status = models.PositiveIntegerField(_("answer status"), null=True, blank=True)
    response_body = models.TextField(_("answer"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="webhook_delivery_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id}"
