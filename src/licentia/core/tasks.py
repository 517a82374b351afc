from django_tasks import task

from licentia.core.ratelimit import rate_windows_prune


@task()
def prune_rate_windows() -> int:
    """Rate-limit windows are counted for an hour at most; older ones are forgotten."""
    return rate_windows_prune()


@task()
def backup_daily() -> str:
    """The daily backup, when it is turned on under Настройки and due."""
    from licentia.core.backup_runs import backup_daily_run

    run = backup_daily_run()
    return run.status if run else "not due"
