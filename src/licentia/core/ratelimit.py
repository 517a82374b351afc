"""Requests counted per scope and caller in fixed windows, shared by every server process."""

from datetime import UTC, datetime, timedelta

from django.db.models import F
from django.utils import timezone

from licentia.core.counters import counter_bump
from licentia.core.models import RateWindow


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"rate limited; retry after {retry_after} s")


def rate_limit_hit(*, scope: str, caller: str, limit: int, window_seconds: int) -> None:
    """Counts a request; raises RateLimited (with the seconds to wait) past the limit in the
    current window."""
    now = timezone.now()
    start_ts = int(now.timestamp()) // window_seconds * window_seconds
    window_start = datetime.fromtimestamp(start_ts, tz=UTC)
    match = {"scope": scope, "caller": caller[:64], "window_start": window_start}
    counter_bump(RateWindow, match=match, create={"hits": 1}, hits=F("hits") + 1)
    hits = RateWindow.objects.filter(**match).values_list("hits", flat=True).first() or 0
    if hits > limit:
        retry_after = start_ts + window_seconds - int(now.timestamp())
        raise RateLimited(retry_after=max(retry_after, 1))


def rate_windows_prune(*, at: datetime | None = None) -> int:
    """Forgets windows older than a day: no limit counts that far back."""
    moment = at or timezone.now()
    deleted, _by_model = RateWindow.objects.filter(
        window_start__lt=moment - timedelta(days=1)
    ).delete()
    return deleted
