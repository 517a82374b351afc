from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from licentia.clients.models import Client
from licentia.keys.models import LicenseKey


class MailKind(models.TextChoices):
    NEW_TRIAL = "new_trial", _("new trial")
    COUPON_ACTIVATED = "coupon_activated", _("coupon activated")
    LICENSE_PROBLEM = "license_problem", _("license problem")
    EXPIRING = "expiring", _("license expiring")
    EXPIRED = "expired", _("license expired")
    NEW_KEY = "new_key", _("new license key")
    MANAGER_DIGEST = "manager_digest", _("manager digest")
    CLIENT_SIGN_IN = "client_sign_in", _("client cabinet sign-in")
    NEW_RELEASE = "new_release", _("new release")
    TEST = "test", _("test message")


class MailTemplate(models.Model):
    """The subject and HTML body of one kind of mail in one language (Почтовый шаблон)."""

    kind = models.CharField(_("kind"), max_length=32, choices=MailKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300)
    html = models.TextField(_("HTML body"))
    enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("Off: mail of this kind in this language is not sent."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"], name="mail_template_kind_language")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"


class SmtpSecurity(models.TextChoices):
    NONE = "none", _("none")
    STARTTLS = "starttls", _("STARTTLS")
    TLS = "tls", _("TLS")


class MailSettings(models.Model):
    """SMTP and mailing options set in the cabinet: one row, with primary key 1. An empty host
    means the server's environment (EMAIL_URL) decides how mail leaves."""

    SINGLETON_PK = 1

    host = models.CharField(
        _("SMTP host"),
        max_length=200,
        blank=True,
        help_text=_("Empty: the server's environment (EMAIL_URL) is used."),
    )
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(
        _("encryption"), max_length=16, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    username = models.CharField(_("user"), max_length=200, blank=True)
    password_encrypted = models.TextField(editable=False, default="")
    sender = models.CharField(
        _("sender"),
        max_length=200,
        blank=True,
        help_text=_("E.g. licensing@vendor.ru. Empty: DEFAULT_FROM_EMAIL."),
    )
    remind_trials = models.BooleanField(
        _("expiry reminders for trials"),
        default=True,
        help_text=_("Off: only paid lines get expiry reminders and the expired mail."),
    )
    digest_opt_out = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("managers without the daily digest"),
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("mail settings")
        verbose_name_plural = _("mail settings")
        default_permissions = ("view", "change")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="mail_settings_is_a_singleton")
        ]

    def __str__(self) -> str:
        return str(_("Mail settings"))


class MailStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class MailRole(models.TextChoices):
    CLIENT = "client", _("client")
    ALERT = "alert", _("alert e-mail")
    DISTRIBUTOR = "distributor", _("distributor instead of the client")
    MANAGER_COPY = "manager_copy", _("copy to the manager")
    MANAGER = "manager", _("manager")
    TEST = "test", _("test")


class Notification(models.Model):
    """One e-mail to one address in the outbox (Исходящая почта), written in the transaction of
    the change that causes it and sent by the worker."""

    kind = models.CharField(_("kind"), max_length=32, choices=MailKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    recipient = models.EmailField(_("recipient"))
    role = models.CharField(_("recipient is"), max_length=16, choices=MailRole.choices)
    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    key = models.ForeignKey(
        LicenseKey,
        verbose_name=_("license key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    subject = models.CharField(_("subject"), max_length=300)
    html = models.TextField(_("HTML body"))
    text = models.TextField(_("text body"))
    status = models.CharField(
        _("state"), max_length=16, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Temporary failures are retried for a day from here; "send again" moves it.
    queued_at = models.DateTimeField(_("queued"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.TextField(_("last error"), blank=True)
    # A refusal of the recipient's address itself (5xx to RCPT): shown on the client card.
    address_refused = models.BooleanField(_("address refused"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing mail")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class MailMark(models.Model):
    """A mail written once and never again: one expiry reminder of a line, one digest of a
    manager on a day. The unique mark makes the daily task safe to re-run on any worker."""

    mark = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.mark


class ProblemAlert(models.Model):
    """When the last license-problem mail of a key and feature was written, and whether
    refusals came since: at most one such mail a day."""

    key_number = models.CharField(max_length=64)
    feature_id = models.PositiveIntegerField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["key_number", "feature_id"], name="problem_alert_key_feature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_number} {self.feature_id}"
