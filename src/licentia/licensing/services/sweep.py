"""The sweep the worker runs every minute: sessions end in the monitor when their seat does."""

from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from licentia.keys.models import LicenseKey
from licentia.keys.selectors import key_license
from licentia.licensing.models import EndReason, Session
from licentia.licensing.selectors import seat_held


def blocked_sessions_end(*, sessions: QuerySet[Session], moment: datetime) -> int:
    """Ends the open sessions among these whose key is blocked: a blocked key holds no seat."""
    return sessions.filter(ended_at__isnull=True, key__blocked=True).update(
        ended_at=moment, end_reason=EndReason.KEY_BLOCKED
    )


def sessions_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """Ends sessions whose seat is no longer held (a floating lease ran out, a bound seat idle
    past its limit), and the sessions of keys that were blocked or whose license for the
    feature ended."""
    moment = at or timezone.now()
    open_sessions = Session.objects.filter(ended_at__isnull=True)
    ended = {
        EndReason.TIMED_OUT: open_sessions.filter(holds_until__lte=moment).update(
            ended_at=F("holds_until"), end_reason=EndReason.TIMED_OUT
        ),
        EndReason.KEY_BLOCKED: blocked_sessions_end(sessions=open_sessions, moment=moment),
        EndReason.LICENSE_ENDED: 0,
    }
    key_ids = open_sessions.values_list("key_id", flat=True).distinct().order_by()
    for key in LicenseKey.objects.filter(pk__in=list(key_ids)):
        pools = key_license(key, moment).pools
        for session in open_sessions.filter(key=key).only("feature_id", "license_type"):
            if session.license_type not in pools.get(session.feature_id, {}):
                ended[EndReason.LICENSE_ENDED] += Session.objects.filter(
                    pk=session.pk, ended_at__isnull=True
                ).update(ended_at=moment, end_reason=EndReason.LICENSE_ENDED)
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
