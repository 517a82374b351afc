"""The sweep the worker runs every minute: sessions end in the monitor when their seat does."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from licentia.catalog.models import TrialCounting
from licentia.keys.models import LicenseKey, LineState
from licentia.keys.selectors import key_license
from licentia.licensing.models import EndReason, Session
from licentia.licensing.selectors import seat_held


def blocked_sessions_end(*, sessions: QuerySet[Session], moment: datetime) -> int:
    """Ends the open sessions among these whose key is blocked: a blocked key holds no seat."""
    return sessions.filter(ended_at__isnull=True, key__blocked=True).update(
        ended_at=moment, end_reason=EndReason.KEY_BLOCKED
    )


# The open sessions whose key has no live line giving their feature and license type any more
# (keys.selectors.line_is_live and key_license's pools, written as one set-based condition):
# a line that ended, expired or was removed, a usage-counted trial used up, a product changed.
_UNLICENSED_SQL = """
UPDATE licensing_session SET ended_at = %(moment)s, end_reason = %(reason)s
WHERE ended_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM keys_keyline l
    JOIN catalog_productfeature f ON f.product_id = l.product_id
    JOIN catalog_product p ON p.id = l.product_id
    WHERE l.key_id = licensing_session.key_id
      AND f.feature_id = licensing_session.feature_id
      AND f.license_type = licensing_session.license_type
      AND l.state = %(active)s AND l.starts_at <= %(moment)s
      AND (l.expires_at IS NULL OR l.expires_at > %(moment)s)
      AND (NOT l.is_trial OR p.trial_counting <> %(usage)s
           OR l.used_days < p.trial_days + l.trial_days_added
           OR (l.used_days = p.trial_days + l.trial_days_added AND l.last_used_on = %(today)s))
)"""


def unlicensed_sessions_end(*, moment: datetime) -> int:
    """Ends, as "license ended", the open sessions no live line of their key licenses now."""
    with connection.cursor() as cursor:
        cursor.execute(
            _UNLICENSED_SQL,
            {
                "moment": connection.ops.adapt_datetimefield_value(moment),
                "today": connection.ops.adapt_datefield_value(timezone.localdate(moment)),
                "reason": EndReason.LICENSE_ENDED.value,
                "active": LineState.ACTIVE.value,
                "usage": TrialCounting.USAGE.value,
            },
        )
        return cursor.rowcount


def sessions_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """Ends sessions whose seat is no longer held (a floating lease ran out, a bound seat idle
    past its limit), and the sessions of keys that were blocked or whose license for the
    feature ended. Three set-based statements, whatever the number of keys and sessions."""
    moment = at or timezone.now()
    open_sessions = Session.objects.filter(ended_at__isnull=True)
    with transaction.atomic():
        ended = {
            EndReason.TIMED_OUT: open_sessions.filter(holds_until__lte=moment).update(
                ended_at=F("holds_until"), end_reason=EndReason.TIMED_OUT
            ),
            EndReason.KEY_BLOCKED: blocked_sessions_end(sessions=open_sessions, moment=moment),
            EndReason.LICENSE_ENDED: unlicensed_sessions_end(moment=moment),
        }
    return {str(reason): count for reason, count in ended.items()}


def sessions_fit(*, key: LicenseKey, moment: datetime) -> int:
    """Ends, newest first, the key's seats beyond what its lines give now (a line removed or
    made smaller), as "license ended"; returns how many. Run under the key's lock."""
    pools = key_license(key, moment).pools
    # The oldest seats keep their place, so the newest are the ones beyond.
    held = Session.objects.filter(key=key).filter(seat_held(moment)).order_by("started_at", "id")
    seen: dict[tuple[int, str], int] = {}
    beyond = []
    for session in held.only("id", "feature_id", "license_type"):
        pool_key = (session.feature_id, session.license_type)
        seen[pool_key] = seen.get(pool_key, 0) + 1
        pool = pools.get(session.feature_id, {}).get(session.license_type)
        if seen[pool_key] > (pool.capacity if pool is not None else 0):
            beyond.append(session.pk)
    return Session.objects.filter(pk__in=beyond).update(
        ended_at=moment, end_reason=EndReason.LICENSE_ENDED
    )
