"""Mail: what is written to the outbox, to whom, and in which words (DOMAIN.md §3).

Every mail is written in the transaction of the change that causes it, so a change that rolls
back leaves no mail behind; the worker (licentia.notifications.delivery) sends it later.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from markupsafe import Markup

from licentia.catalog.models import Feature, Product
from licentia.clients.models import Client
from licentia.core.audit import Actor, audit_record, snapshot
from licentia.core.models import ActorKind, User
from licentia.core.selectors import vendor_settings_get
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import line_sentence
from licentia.licensing.models import Problem
from licentia.licensing.refusals import Code, refusal_message
from licentia.notifications.defaults import DEFAULTS, DISABLED_BY_DEFAULT, sample_context
from licentia.notifications.models import (
    MailKind,
    MailMark,
    MailRole,
    MailSettings,
    MailStatus,
    MailTemplate,
    Notification,
    ProblemAlert,
)
from licentia.notifications.rendering import TemplateRenderError, html_to_text, render_mail
from licentia.notifications.secrets import encrypt_password

logger = logging.getLogger("licentia.notifications")

# Refusals that a bigger or longer license cures: the ones worth telling the client about.
MAILED_PROBLEM_CODES = frozenset({Code.NO_FREE_SEAT, Code.LICENSE_EXPIRED})
PROBLEM_MAIL_INTERVAL = timedelta(hours=24)
DIGEST_HORIZON_DAYS = 30
# The expired mail is still written this long after the end, should the worker have been away.
EXPIRED_CATCH_UP = timedelta(days=2)
MAIL_SETTINGS_EDITABLE = (
    "host",
    "port",
    "security",
    "username",
    "sender",
    "remind_trials",
)


class MailOutsideTransactionError(RuntimeError):
    """A mail must be written in the transaction of the change that causes it."""


# Settings and templates ------------------------------------------------------------------


def mail_settings_get() -> MailSettings:
    found = MailSettings.objects.filter(pk=MailSettings.SINGLETON_PK).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MailSettings.objects.create(pk=MailSettings.SINGLETON_PK)
    except IntegrityError:
        return MailSettings.objects.get(pk=MailSettings.SINGLETON_PK)


def _settings_snapshot(current: MailSettings) -> dict[str, Any]:
    data = snapshot(current)
    # Only whether a password is set: the sealed one is never logged (core.audit).
    data["password_set"] = bool(current.password_encrypted)
    data["digest_opt_out"] = sorted(current.digest_opt_out.values_list("pk", flat=True))
    return data


def mail_settings_update(
    *,
    actor: Actor,
    password: str | None = None,
    digest_opt_out: Iterable[User] | None = None,
    **changes: Any,
) -> MailSettings:
    """`password` None keeps the stored one, "" clears it."""
    unknown = changes.keys() - set(MAIL_SETTINGS_EDITABLE)
    if unknown:
        raise TypeError(f"not editable mail settings: {', '.join(sorted(unknown))}")
    mail_settings_get()
    with transaction.atomic():
        current = MailSettings.objects.select_for_update().get(pk=MailSettings.SINGLETON_PK)
        before = _settings_snapshot(current)
        for name, value in changes.items():
            setattr(current, name, value)
        if password is not None:
            current.password_encrypted = encrypt_password(password)
        current.full_clean()
        current.save()
        if digest_opt_out is not None:
            current.digest_opt_out.set(digest_opt_out)
        after = _settings_snapshot(current)
        after["password_changed"] = password is not None
        audit_record(
            actor=actor, action="mail_settings.update", instance=current, before=before, after=after
        )
    return current


def default_template(kind: str, language: str) -> MailTemplate:
    subject, html = DEFAULTS[kind][language]
    return MailTemplate(
        kind=kind,
        language=language,
        subject=subject,
        html=html,
        enabled=kind not in DISABLED_BY_DEFAULT,
    )


def mail_templates_ensure() -> None:
    """Every kind and language has its row, the shipped default until someone edits it."""
    MailTemplate.objects.bulk_create(
        [
            default_template(kind, language)
            for kind in DEFAULTS
            for language, _name in settings.LANGUAGES
        ],
        ignore_conflicts=True,
    )


def template_for(kind: str, language: str) -> MailTemplate:
    found = MailTemplate.objects.filter(kind=kind, language=language).first()
    return found or default_template(kind, language)


def mail_template_check(*, kind: str, subject: str, html: str) -> None:
    """Raises ValidationError (with the line) unless the template renders with sample data."""
    try:
        render_mail(subject=subject, html=html, context=sample_context(kind))
    except TemplateRenderError as error:
        raise ValidationError({error.part: str(error)}, code="template_error") from error


def mail_template_update(
    *, actor: Actor, template: MailTemplate, subject: str, html: str, enabled: bool
) -> MailTemplate:
    mail_template_check(kind=template.kind, subject=subject, html=html)
    with transaction.atomic():
        current = MailTemplate.objects.select_for_update().get(pk=template.pk)
        before = snapshot(current)
        current.subject, current.html, current.enabled = subject, html, enabled
        current.save()
        audit_record(
            actor=actor,
            action="mail_template.update",
            instance=current,
            before=before,
            after=snapshot(current),
        )
    return current


def mail_template_reset(*, actor: Actor, template: MailTemplate) -> MailTemplate:
    """Back to the shipped subject and body; the on/off switch stays as it is."""
    default = default_template(template.kind, template.language)
    return mail_template_update(
        actor=actor,
        template=template,
        subject=default.subject,
        html=default.html,
        enabled=template.enabled,
    )


# Who gets a mail --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    role: str


def client_recipients(client: Client, *, alert: bool = False) -> list[Recipient]:
    """DOMAIN.md §3: the distributor instead of the client when it has an e-mail, else the
    client's alert e-mail for problems (falling back to the e-mail) or the client's e-mail;
    the responsible manager always gets a copy. Empty addresses get nothing."""
    distributor = client.distributor
    if distributor is not None and distributor.email:
        primary = Recipient(distributor.email, MailRole.DISTRIBUTOR)
    elif alert and client.alert_email:
        primary = Recipient(client.alert_email, MailRole.ALERT)
    else:
        primary = Recipient(client.email, MailRole.CLIENT)
    recipients = [primary] if primary.email else []
    manager = client.manager
    if (
        manager is not None
        and manager.is_active
        and manager.email
        and manager.email.lower() not in {r.email.lower() for r in recipients}
    ):
        recipients.append(Recipient(manager.email, MailRole.MANAGER_COPY))
    return recipients


def _language(code: str) -> str:
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _note(role: str, client: Client | None, primary: Recipient | None) -> str:
    """What a mail says about itself when it does not reach the one it speaks of."""
    if client is None:
        return ""
    if role == MailRole.DISTRIBUTOR:
        return format_html(
            "<p><em>{}</em></p>\n",
            _("This mail concerns your client %(company)s.") % {"company": client.company},
        )
    if role == MailRole.MANAGER_COPY:
        sent_to = primary.email if primary else _("nobody (no e-mail address)")
        return format_html(
            "<p><em>{}</em></p>\n",
            _("A copy of the mail about your client %(company)s, sent to %(to)s.")
            % {"company": client.company, "to": sent_to},
        )
    return ""


def _kick_worker() -> None:
    from licentia.notifications.tasks import send_outbox

    try:
        send_outbox.enqueue()
    except Exception:
        # The periodic run sends it a minute later.
        logger.exception("could not enqueue the outbox run")


def mail_write(
    *,
    kind: str,
    language: str,
    recipients: list[Recipient],
    context: dict[str, Any],
    client: Client | None = None,
    key: LicenseKey | None = None,
) -> list[Notification]:
    """Renders the kind's template and writes one outbox row per recipient; nothing when the
    template is switched off or nobody has an address."""
    if not connection.in_atomic_block:
        raise MailOutsideTransactionError(f"mail_write({kind!r}) must run inside a transaction")
    language = _language(language)
    template = template_for(kind, language)
    if not template.enabled or not recipients:
        return []
    try:
        rendered = render_mail(subject=template.subject, html=template.html, context=context)
    except TemplateRenderError:
        # Saved templates render (the cabinet checks them); a mail must never undo its cause.
        logger.exception("the %s template (%s) does not render", kind, language)
        return []
    now = timezone.now()
    primary = next((r for r in recipients if r.role != MailRole.MANAGER_COPY), None)
    rows = []
    with translation.override(language):
        for recipient in recipients:
            html = _note(recipient.role, client, primary) + rendered.html
            rows.append(
                Notification(
                    kind=kind,
                    language=language,
                    recipient=recipient.email,
                    role=recipient.role,
                    client=client,
                    key=key,
                    subject=rendered.subject,
                    html=html,
                    text=html_to_text(html),
                    next_attempt_at=now,
                    queued_at=now,
                )
            )
    created = Notification.objects.bulk_create(rows)
    transaction.on_commit(_kick_worker)
    return created


def _client_of(key: LicenseKey) -> Client:
    return Client.objects.select_related("manager", "distributor").get(pk=key.client_id)


def mail_to_client(
    *,
    kind: str,
    key: LicenseKey,
    context: Callable[[], dict[str, Any]],
    alert: bool = False,
) -> list[Notification]:
    """A client-facing mail about the key; `context` is built in the client's language."""
    client = _client_of(key)
    language = _language(client.language)
    with translation.override(language):
        full = {
            "company": client.company,
            "contact": client.contact,
            "client_email": client.email,
            "key": key.number,
            "cabinet_link": settings.BASE_URL,
            **context(),
        }
    return mail_write(
        kind=kind,
        language=language,
        recipients=client_recipients(client, alert=alert),
        context=full,
        client=client,
        key=key,
    )


# What the words are made of ---------------------------------------------------------------


def _day(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d") if moment else ""


def _product_name(product: Product) -> str:
    return product.name  # in the active language


def _activation_text(product: Product) -> Markup:
    # Stored as HTML the catalog cleaned (nh3, catalog.admin), so marked safe for the mail.
    if translation.get_language() == "en" and product.activation_text_en:
        return Markup(product.activation_text_en)  # noqa: S704
    return Markup(product.activation_text_ru)  # noqa: S704


def _line_context(line: KeyLine) -> dict[str, Any]:
    return {
        "name": _product_name(line.product),
        "term": str(line_sentence(line)),
        "expiry": _day(line.expires_at),
        "activation_text": _activation_text(line.product),
    }


# The kinds --------------------------------------------------------------------------------


def notify_new_trial(*, line: KeyLine, key: LicenseKey) -> list[Notification]:
    return mail_to_client(
        kind=MailKind.NEW_TRIAL,
        key=key,
        context=lambda: {"products": [_line_context(line)], "expiry": _day(line.expires_at)},
    )


def notify_coupon_activated(
    *, key: LicenseKey, coupon: str, lines: list[KeyLine]
) -> list[Notification]:
    """Called by the coupons app inside the activation's transaction."""
    return mail_to_client(
        kind=MailKind.COUPON_ACTIVATED,
        key=key,
        context=lambda: {"coupon": coupon, "products": [_line_context(line) for line in lines]},
    )


def notify_new_key(*, key: LicenseKey, actor: Actor) -> list[Notification]:
    """Only a key a manager generates; a trial's key is told of by the trial's mail."""
    if actor.kind != ActorKind.STAFF:
        return []
    return mail_to_client(kind=MailKind.NEW_KEY, key=key, context=dict)


def notify_client_sign_in(
    *, client: Client, key: LicenseKey | None, email: str, link: str, valid_minutes: int
) -> list[Notification]:
    """The one-time sign-in link of the client cabinet, to the very address it was asked for
    (never routed to a distributor or copied to the manager: it opens the cabinet)."""
    return mail_write(
        kind=MailKind.CLIENT_SIGN_IN,
        language=client.language,
        recipients=[Recipient(email, MailRole.CLIENT)],
        context={
            "company": client.company,
            "contact": client.contact,
            "client_email": client.email,
            "key": key.number if key is not None else "",
            "cabinet_link": settings.BASE_URL,
            "link": link,
            "valid_minutes": valid_minutes,
            "email": email,
        },
        client=client,
        key=key,
    )


def notify_new_release(*, key: LicenseKey, context: dict[str, Any]) -> list[Notification]:
    """The new-release mail, routed as the alerts are (alert e-mail first)."""
    return mail_to_client(
        kind=MailKind.NEW_RELEASE, key=key, context=lambda: dict(context), alert=True
    )


def notify_capture_refused(
    *, key: LicenseKey | None, feature_id: int, code: int, moment: datetime
) -> list[Notification]:
    """At most one mail per key and feature a day; refusals inside the day wait for the next
    one (problem_alerts_flush writes it when the day is over)."""
    if key is None or code not in MAILED_PROBLEM_CODES:
        return []
    # The refusals of a day after its mail, all seats taken for hours: one statement each.
    waiting = ProblemAlert.objects.filter(
        key_number=key.number,
        feature_id=feature_id,
        last_sent_at__gt=moment - PROBLEM_MAIL_INTERVAL,
    ).update(pending_since=Coalesce(F("pending_since"), Value(moment, DateTimeField())))
    if waiting:
        return []
    ProblemAlert.objects.bulk_create(
        [ProblemAlert(key_number=key.number, feature_id=feature_id)], ignore_conflicts=True
    )
    alert = ProblemAlert.objects.select_for_update().get(
        key_number=key.number, feature_id=feature_id
    )
    if alert.last_sent_at is not None and moment - alert.last_sent_at < PROBLEM_MAIL_INTERVAL:
        if alert.pending_since is None:
            alert.pending_since = moment
            alert.save(update_fields=["pending_since"])
        return []
    return _problem_mail(alert, key, moment)


def _problem_mail(alert: ProblemAlert, key: LicenseKey, moment: datetime) -> list[Notification]:
    since = alert.last_sent_at
    alert.last_sent_at, alert.pending_since = moment, None
    alert.save(update_fields=["last_sent_at", "pending_since"])
    refusals = Problem.objects.filter(
        key_number=key.number, feature_id=alert.feature_id, code__in=MAILED_PROBLEM_CODES
    )
    if since is not None:
        refusals = refusals.filter(last_at__gt=since)
    feature = Feature.objects.filter(pk=alert.feature_id).first()

    def context() -> dict[str, Any]:
        return {
            "feature": feature.name if feature else str(alert.feature_id),
            "feature_id": alert.feature_id,
            "refusals": [
                {
                    "time": date_format(timezone.localtime(problem.last_at), "Y-m-d H:i"),
                    "unit": problem.unit,
                    "reason": refusal_message(problem.code),
                    "count": problem.count,
                }
                for problem in refusals.order_by("first_at", "id")[:50]
            ],
        }

    return mail_to_client(kind=MailKind.LICENSE_PROBLEM, key=key, context=context, alert=True)


def problem_alerts_flush(*, at: datetime | None = None) -> int:
    """Writes the waiting license-problem mails whose day has passed."""
    moment = at or timezone.now()
    written = 0
    due = ProblemAlert.objects.filter(
        pending_since__isnull=False, last_sent_at__lte=moment - PROBLEM_MAIL_INTERVAL
    ).values_list("pk", flat=True)
    for alert_id in list(due):
        with transaction.atomic():
            alert = ProblemAlert.objects.select_for_update().get(pk=alert_id)
            if alert.pending_since is None:
                continue  # another worker wrote it
            key = LicenseKey.objects.filter(number=alert.key_number).first()
            if key is None:
                alert.pending_since = None
                alert.save(update_fields=["pending_since"])
                continue
            written += bool(_problem_mail(alert, key, moment))
    return written


def _write_once(mark: str, write: Callable[[], object]) -> bool:
    """Runs `write` in the transaction that records `mark`, unless the mark exists: a re-run or
    a second worker writes nothing twice."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                MailMark.objects.create(mark=mark)
        except IntegrityError:
            return False
        write()
    return True


def _renewed(line: KeyLine) -> bool:
    """Another active line of the same product on the key lasts longer (or for ever)."""
    assert line.expires_at is not None
    return (
        KeyLine.objects.filter(key_id=line.key_id, product_id=line.product_id)
        .filter(state=LineState.ACTIVE)
        .exclude(pk=line.pk)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=line.expires_at))
        .exists()
    )


def _line_mail(kind: str, line: KeyLine, days_left: int) -> Callable[[], object]:
    def write() -> object:
        return mail_to_client(
            kind=kind,
            key=line.key,
            context=lambda: {
                "product": _product_name(line.product),
                "expiry": _day(line.expires_at),
                "days_left": days_left,
                "trial": line.is_trial,
            },
        )

    return write


def reminders_write(*, at: datetime | None = None) -> dict[str, int]:
    """The expiry reminders (two per line, at the vendor's offsets) and the expired mail (once,
    the day the line ends), unless the line was renewed; idempotent."""
    moment = at or timezone.now()
    today = timezone.localdate(moment)
    vendor = vendor_settings_get()
    lines = (
        KeyLine.objects.filter(
            state=LineState.ACTIVE,
            expires_at__gt=moment - EXPIRED_CATCH_UP,
            expires_at__lte=moment + timedelta(days=vendor.first_reminder_days + 1),
            key__blocked=False,
        )
        .select_related("key", "product")
        .order_by("expires_at", "id")
    )
    if not mail_settings_get().remind_trials:
        lines = lines.filter(is_trial=False)
    due: list[tuple[str, str, KeyLine, int]] = []
    for line in lines.iterator(chunk_size=1000):
        assert line.expires_at is not None
        expiry_day = timezone.localdate(line.expires_at)
        days_left = (expiry_day - today).days
        if line.expires_at <= moment:
            due.append((MailKind.EXPIRED, f"expired:{line.pk}:{expiry_day}", line, days_left))
        elif days_left <= vendor.second_reminder_days:
            due.append((MailKind.EXPIRING, f"expiring2:{line.pk}:{expiry_day}", line, days_left))
        elif days_left <= vendor.first_reminder_days and line.starts_at < line.expires_at - (
            timedelta(days=vendor.first_reminder_days)
        ):
            # A line shorter than the first offset (a short trial) gets the second one only.
            due.append((MailKind.EXPIRING, f"expiring1:{line.pk}:{expiry_day}", line, days_left))
    counts: dict[str, int] = {MailKind.EXPIRING: 0, MailKind.EXPIRED: 0}
    for start in range(0, len(due), 500):
        chunk = due[start : start + 500]
        # Read at once which were written by an earlier run: the hourly re-run stays cheap.
        done = set(
            MailMark.objects.filter(mark__in=[mark for _k, mark, _l, _d in chunk]).values_list(
                "mark", flat=True
            )
        )
        for kind, mark, line, days_left in chunk:
            if mark not in done and not _renewed(line):
                counts[kind] += _write_once(mark, _line_mail(kind, line, days_left))
    return {"expiring": counts[MailKind.EXPIRING], "expired": counts[MailKind.EXPIRED]}


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)


def _digest_context(manager: User, today: date, moment: datetime) -> dict[str, Any]:
    yesterday = today - timedelta(days=1)
    expiring = (
        KeyLine.objects.filter(
            key__client__manager=manager,
            state=LineState.ACTIVE,
            expires_at__gt=moment,
            expires_at__lte=moment + timedelta(days=DIGEST_HORIZON_DAYS),
        )
        .select_related("key__client", "product")
        .order_by("expires_at", "id")
    )
    trials = (
        KeyLine.objects.filter(
            key__client__manager=manager,
            is_trial=True,
            created_at__gte=_day_range(yesterday)[0],
            created_at__lt=_day_range(yesterday)[1],
        )
        .select_related("key__client", "product")
        .order_by("id")
    )
    problems = (
        Problem.objects.filter(key__client__manager=manager, day=yesterday)
        .select_related("key__client")
        .order_by("key_number", "feature_id")
    )
    features = {feature.pk: feature.name for feature in Feature.objects.all()}

    def line_row(line: KeyLine) -> dict[str, Any]:
        return {
            "company": line.key.client.company,
            "key": line.key.number,
            "product": _product_name(line.product),
            "expiry": _day(line.expires_at),
        }

    return {
        "manager": manager.get_full_name() or manager.get_username(),
        "date": date_format(today, "Y-m-d"),
        "cabinet_link": settings.BASE_URL,
        "expiring": [line_row(line) for line in expiring[:200]],
        "trials": [line_row(line) for line in trials[:200]],
        "problems": [
            {
                "company": problem.key.client.company if problem.key else "",
                "key": problem.key_number,
                "feature": features.get(problem.feature_id, str(problem.feature_id)),
                "reason": refusal_message(problem.code),
                "count": problem.count,
            }
            for problem in problems[:200]
        ],
    }


def digests_write(*, at: datetime | None = None) -> int:
    """Each manager with clients gets one digest a day (unless switched off for him), when
    there is something to tell."""
    moment = at or timezone.now()
    today = timezone.localdate(moment)
    opted_out = mail_settings_get().digest_opt_out.values_list("pk", flat=True)
    managers = (
        User.objects.filter(is_active=True, managed_clients__isnull=False)
        .exclude(email="")
        .exclude(pk__in=list(opted_out))
        .distinct()
        .order_by("pk")
    )
    written = 0
    for manager in managers:
        language = _language(manager.language)

        def write(manager: User = manager, language: str = language) -> None:
            with translation.override(language):
                context = _digest_context(manager, today, moment)
            if context["expiring"] or context["trials"] or context["problems"]:
                mail_write(
                    kind=MailKind.MANAGER_DIGEST,
                    language=language,
                    recipients=[Recipient(manager.email, MailRole.MANAGER)],
                    context=context,
                )

        written += _write_once(f"digest:{manager.pk}:{today}", write)
    return written


# The cabinet's actions on the outbox -------------------------------------------------------


def notification_resend(*, actor: Actor, notification: Notification) -> Notification:
    """Queues a failed (or sent) mail again, as a fresh row's day of retries."""
    with transaction.atomic():
        current = Notification.objects.select_for_update().get(pk=notification.pk)
        if current.status in {MailStatus.PENDING, MailStatus.SENDING}:
            raise ValidationError(_("This mail is being sent already."), code="mail_queued")
        before = {"status": current.status, "last_error": current.last_error}
        now = timezone.now()
        current.status = MailStatus.PENDING
        current.queued_at = current.next_attempt_at = now
        current.address_refused = False
        current.save(update_fields=["status", "queued_at", "next_attempt_at", "address_refused"])
        audit_record(
            actor=actor,
            action="notification.resend",
            instance=current,
            before=before,
            after={"status": current.status},
        )
        transaction.on_commit(_kick_worker)
    return current


def mail_test_write(
    *, actor: Actor, kind: str, language: str, subject: str, html: str
) -> Notification:
    """The template as it stands in the editor, rendered with sample data, to the user who
    asked for it."""
    if actor.user is None or not actor.user.email:
        raise ValidationError(_("Your user has no e-mail address."), code="no_email")
    mail_template_check(kind=kind, subject=subject, html=html)
    rendered = render_mail(subject=subject, html=html, context=sample_context(kind))
    now = timezone.now()
    with transaction.atomic():
        row = Notification.objects.create(
            kind=MailKind.TEST,
            language=_language(language),
            recipient=actor.user.email,
            role=MailRole.TEST,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            next_attempt_at=now,
            queued_at=now,
        )
        audit_record(actor=actor, action="notification.test", instance=row, after={"kind": kind})
    return row
