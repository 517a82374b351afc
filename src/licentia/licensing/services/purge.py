"""Ended sessions are kept for the vendor's retention period, then deleted by the worker."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from licentia.core.selectors import vendor_settings_get
from licentia.core.signals import signal_answers
from licentia.licensing.models import Session
from licentia.licensing.signals import sessions_purge_horizon

# Ids a batch covers: each batch is its own short transaction, so captures and heartbeats
# never wait for the purge behind more than one batch's row locks.
BATCH_IDS = 5000


def purge_horizon(*, moment: datetime) -> datetime:
    """Sessions ended before this may go: the retention period's start, or earlier when an
    app above still has to read older ones (sessions_purge_horizon)."""
    horizon = moment - timedelta(days=vendor_settings_get().session_retention_days)
    answers = signal_answers(sessions_purge_horizon, sender=Session, moment=moment)
    return min([horizon, *(answer for answer in answers if answer is not None)])


def sessions_purge(*, at: datetime | None = None, batch_ids: int = BATCH_IDS) -> int:
    """Deletes the sessions ended before the purge horizon, in batches by id range; returns
    how many."""
    horizon = purge_horizon(moment=at or timezone.now())
    old = Session.objects.filter(ended_at__lt=horizon)
    bounds = old.aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        return 0
    deleted = 0
    for start in range(bounds["first"], bounds["last"] + 1, batch_ids):
        with transaction.atomic():
            count, _by_model = old.filter(id__gte=start, id__lt=start + batch_ids).delete()
        deleted += count
    return deleted
