from django_tasks import task

from licentia.core.ratelimit import rate_windows_prune


@task()
def prune_rate_windows() -> int:
    """Rate-limit windows are counted for an hour at most; older ones are forgotten."""
    return rate_windows_prune()
