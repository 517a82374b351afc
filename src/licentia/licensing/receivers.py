"""How licensing reacts to the apps below it."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from licentia.clients.models import Client
from licentia.clients.signals import client_deletion_blockers
from licentia.keys.models import LicenseKey
from licentia.keys.signals import key_blocked, key_open_sessions
from licentia.licensing.models import Session
from licentia.licensing.services.sweep import blocked_sessions_end


@receiver(key_blocked)
def end_sessions_of_blocked_key(*, key: LicenseKey, moment: datetime, **_: Any) -> None:
    # Now, not at the next sweep: the seats are free for nobody, and the monitor says why.
    blocked_sessions_end(sessions=Session.objects.filter(key=key), moment=moment)


@receiver(key_open_sessions)
def count_open_sessions_of_key(*, key: LicenseKey, **_: Any) -> int:
    return Session.objects.filter(key=key, ended_at__isnull=True).count()


# A client whose application ran this recently may come back to it: its card is kept.
RECENT_USE = timedelta(days=30)


@receiver(client_deletion_blockers)
def keys_used_lately(*, client: Client, **kwargs: Any) -> list[str]:
    since = timezone.now() - RECENT_USE
    recent = (
        Session.objects.filter(key__client=client)
        .filter(Q(ended_at__isnull=True) | Q(last_heartbeat_at__gte=since) | Q(ended_at__gte=since))
        .values("key__number")
        .annotate(last=Max("last_heartbeat_at"))
        .order_by("key__number")
    )
    return [
        _(
            "Key %(key)s was used within the last 30 days (last on %(date)s). A client whose "
            "application is in use is not deleted."
        )
        % {
            "key": row["key__number"],
            "date": date_format(timezone.localtime(row["last"]), "SHORT_DATE_FORMAT"),
        }
        for row in recent
    ]
