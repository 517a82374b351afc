"""Publishing and withdrawing releases, the subscription trial, download counts and the
new-release mail (delayed, limited per day, once per client)."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from licentia.catalog.selectors import catalog_products
from licentia.core.audit import Actor, audit_record, audited_change, snapshot
from licentia.core.signals import release_mail_due
from licentia.keys.models import KeyLine, LicenseKey
from licentia.keys.selectors import lines_with_products
from licentia.licensing.models import Session
from licentia.licensing.services.trials import trial_grant
from licentia.releases.models import (
    Compatibility,
    Distribution,
    MailState,
    Release,
    ReleaseFile,
    ReleaseMail,
    ReleaseSettings,
)
from licentia.releases.selectors import (
    counted_link,
    holds_feature,
    key_holding,
    public_url,
    release_settings_get,
)
from licentia.releases.versions import version_key

logger = logging.getLogger(__name__)

# Clients whose keys used one of the distribution's products this recently get its mail.
MAIL_USAGE_WINDOW = timedelta(days=30)
RELEASE_SETTINGS_EDITABLE = (
    "cdn_host",
    "prerelease_networks",
    "mail_delay_minutes",
    "mail_daily_limit",
)


def release_settings_update(*, actor: Actor, **changes: Any) -> ReleaseSettings:
    unknown = changes.keys() - set(RELEASE_SETTINGS_EDITABLE)
    if unknown:
        raise TypeError(f"not editable release settings: {', '.join(sorted(unknown))}")
    release_settings_get()
    with audited_change(
        ReleaseSettings,
        ReleaseSettings.SINGLETON_PK,
        actor=actor,
        action="release_settings.update",
    ) as current:
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
    return current


def release_is_visible(release: Release) -> bool:
    """Offered to clients: not a pre-release, of a published distribution."""
    return not release.prerelease and release.distribution.published


def release_visibility_changed(
    *, release: Release, was_visible: bool, at: datetime | None = None
) -> None:
    """After a release was saved: one that became visible has its mail due after the delay;
    one withdrawn (made a pre-release again, or its distribution unpublished) has its unsent
    mail cancelled. Runs in the transaction of the change."""
    moment = at or timezone.now()
    visible = release_is_visible(release)
    if visible and not was_visible:
        delay = timedelta(minutes=release_settings_get().mail_delay_minutes)
        Release.objects.filter(pk=release.pk).update(mail_due_at=moment + delay, mail_planned=False)
    elif was_visible and not visible:
        _mail_cancel(release)


def _mail_cancel(release: Release) -> int:
    Release.objects.filter(pk=release.pk).update(mail_due_at=None, mail_planned=False)
    return ReleaseMail.objects.filter(release=release, state=MailState.PENDING).update(
        state=MailState.CANCELLED
    )


def distribution_visibility_changed(*, distribution: Distribution, was_published: bool) -> None:
    """After a distribution was saved: its releases follow it in or out of sight."""
    if was_published == distribution.published:
        return
    for release in distribution.releases.filter(prerelease=False):
        release.distribution = distribution
        release_visibility_changed(release=release, was_visible=was_published)


@dataclass
class FileIn:
    name: str
    url: str
    size: int = 0
    md5: str = ""
    sha256: str = ""


@dataclass
class CompatibilityIn:
    configuration: str
    min_version: str = ""
    max_version: str = ""


@dataclass
class ReleaseIn:
    version: str
    released_on: date
    prerelease: bool = False
    whats_new_ru: str = ""
    whats_new_en: str = ""
    min_platform_version: str = ""
    files: list[FileIn] = field(default_factory=list)
    compatibility: list[CompatibilityIn] = field(default_factory=list)


def _same_version(distribution: Distribution, version: str) -> Release | None:
    wanted = version_key(version)
    for release in distribution.releases.select_for_update():
        if version_key(release.version) == wanted:
            return release
    return None


def release_publish(
    *, distribution: Distribution, data: ReleaseIn, actor: Actor
) -> tuple[Release, bool]:
    """Creates the release, or updates the one of the same version (4.0 is 4.0.0) with its
    files and compatibility replaced: what a build server calls again and again. Returns the
    release and whether it was created."""
    errors: dict[str, list[str]] = {}
    if not data.files:
        errors["files"] = [_("A release has at least one file.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Distribution.objects.select_for_update().get(pk=distribution.pk)
        release = _same_version(distribution, data.version)
        created = release is None
        before = None if release is None else _release_snapshot(release)
        was_visible = release is not None and release_is_visible(release)
        if release is None:
            release = Release(distribution=distribution, version=data.version)
        release.released_on = data.released_on
        release.prerelease = data.prerelease
        release.whats_new_ru = data.whats_new_ru
        release.whats_new_en = data.whats_new_en
        release.min_platform_version = data.min_platform_version
        release.distribution = distribution
        release.full_clean(validate_unique=False)
        release.save()
        release.files.all().delete()
        release.compatibility.all().delete()
        for position, file in enumerate(data.files):
            row = ReleaseFile(release=release, position=position, **vars(file))
            row.full_clean()
            row.save()
        for item in data.compatibility:
            row_c = Compatibility(release=release, **vars(item))
            row_c.full_clean()
            row_c.save()
        audit_record(
            actor=actor,
            action="release.create" if created else "release.update",
            instance=release,
            before=before,
            after=_release_snapshot(release),
        )
        release_visibility_changed(release=release, was_visible=was_visible)
    release.refresh_from_db()
    return release, created


def _release_snapshot(release: Release) -> dict[str, Any]:
    return {
        **snapshot(release),
        "files": [snapshot(file) for file in release.files.all()],
        "compatibility": [snapshot(row) for row in release.compatibility.all()],
    }


def release_delete(*, release: Release, actor: Actor) -> None:
    """Deletes the release with its files; its unsent mail goes with it."""
    with transaction.atomic():
        current = Release.objects.select_for_update().get(pk=release.pk)
        audit_record(
            actor=actor,
            action="release.delete",
            instance=current,
            before=_release_snapshot(current),
        )
        _mail_cancel(current)
        current.delete()


def download_count(*, file: ReleaseFile) -> None:
    """One download more of the file."""
    ReleaseFile.objects.filter(pk=file.pk).update(downloads=F("downloads") + 1)


def subscription_trial_grant(
    *,
    distribution: Distribution,
    key: LicenseKey,
    lines: list[KeyLine],
    actor: Actor,
    at: datetime | None = None,
) -> KeyLine | None:
    """The distribution's trial product for a key that never had its feature, on its first
    request for the releases: by licensing's trial rule, once per product per key."""
    if (
        distribution.trial_product_id is None
        or distribution.feature_id is None
        or not distribution.published
        or key.blocked
        or holds_feature(distribution, lines)
    ):
        return None
    return trial_grant(key=key, product_id=distribution.trial_product_id, actor=actor, at=at)


# The new-release mail ----------------------------------------------------------------------


def _distribution_features(distribution: Distribution) -> set[int]:
    products = catalog_products()
    features = {distribution.feature_id} if distribution.feature_id else set()
    for product in distribution.linked_products.all():
        known = products.get(product.pk, product)
        features |= {line.feature_id for line in known.lines.all()}
    return features


def release_mail_recipients(release: Release, *, at: datetime) -> dict[int, LicenseKey]:
    """Client id -> the key through which it may have the release, of the clients whose keys
    used one of the distribution's products (a session of its features) in the last 30 days."""
    distribution = release.distribution
    features = _distribution_features(distribution)
    if not features:
        return {}
    used = (
        Session.objects.filter(
            last_heartbeat_at__gte=at - MAIL_USAGE_WINDOW, feature_id__in=features
        )
        .values_list("key_id", flat=True)
        .distinct()
    )
    keys = LicenseKey.objects.filter(pk__in=list(used), blocked=False).order_by("id")
    chosen: dict[int, LicenseKey] = {}
    for key in keys:
        if key.client_id in chosen:
            continue
        lines = lines_with_products(list(KeyLine.objects.filter(key=key).order_by("id")))
        if key_holding(distribution, lines, at).allows(release):
            chosen[key.client_id] = key
    return chosen


def release_mails_plan(*, at: datetime | None = None) -> int:
    """For each visible release whose delay has passed: one pending mail per client that
    should hear of it and was not mailed of it yet. Returns how many mails were planned."""
    moment = at or timezone.now()
    planned = 0
    due = Release.objects.filter(mail_planned=False, mail_due_at__lte=moment).select_related(
        "distribution"
    )
    for release_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            release = (
                Release.objects.select_for_update()
                .select_related("distribution")
                .filter(pk=release_id, mail_planned=False)
                .first()
            )
            if release is None or not release_is_visible(release):
                continue
            recipients = release_mail_recipients(release, at=moment)
            known = dict(
                ReleaseMail.objects.filter(release=release).values_list("client_id", "state")
            )
            ReleaseMail.objects.filter(
                release=release, state=MailState.CANCELLED, client_id__in=list(recipients)
            ).update(state=MailState.PENDING)
            new = [
                ReleaseMail(release=release, client_id=client_id, key=key)
                for client_id, key in recipients.items()
                if client_id not in known
            ]
            ReleaseMail.objects.bulk_create(new)
            planned += len(new) + sum(
                1 for client_id in recipients if known.get(client_id) == MailState.CANCELLED
            )
            release.mail_planned = True
            release.save(update_fields=["mail_planned"])
    return planned


def _day_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def release_mail_context(release: Release, key: LicenseKey) -> dict[str, Any]:
    """The template's variables, in the active language."""
    distribution = release.distribution
    current = release_settings_get()
    return {
        "distribution": distribution.name,
        "version": release.version,
        "release_date": date_format(release.released_on, "Y-m-d"),
        "whats_new": release.whats_new,
        "files": [
            {
                "name": file.name,
                "size": file.size,
                "url": counted_link(file, base_url=settings.BASE_URL),
                "direct_url": public_url(file.url, current),
            }
            for file in release.files.order_by("position", "id")
        ],
    }


def release_mails_send(*, at: datetime | None = None) -> int:
    """Hands the pending mails to the mail app, oldest first, as many as today's limit still
    allows. Returns how many were handed over."""
    moment = at or timezone.now()
    sent = 0
    with transaction.atomic():
        # One sender at a time: the day's count and the sending must agree.
        current = ReleaseSettings.objects.select_for_update().get(pk=release_settings_get().pk)
        today = ReleaseMail.objects.filter(
            state=MailState.SENT, sent_at__gte=_day_start(moment), sent_at__lte=moment
        ).count()
        room = max(current.mail_daily_limit - today, 0)
        pending = (
            ReleaseMail.objects.filter(state=MailState.PENDING, release__mail_planned=True)
            .select_related("release__distribution", "key", "client")
            .order_by("id")[:room]
        )
        for mail in list(pending):
            with translation.override(mail.client.language or settings.LANGUAGE_CODE):
                context = release_mail_context(mail.release, mail.key)
            release_mail_due.send(sender=Release, key=mail.key, context=context)
            mail.state = MailState.SENT
            mail.sent_at = moment
            mail.save(update_fields=["state", "sent_at"])
            sent += 1
    return sent


def release_mails_write(*, at: datetime | None = None) -> dict[str, int]:
    moment = at or timezone.now()
    return {"planned": release_mails_plan(at=moment), "sent": release_mails_send(at=moment)}
