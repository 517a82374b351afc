from django.core.management import call_command
from django_tasks import task

from licentia.licensing.services.purge import sessions_purge
from licentia.licensing.services.sweep import sessions_sweep


@task()
def sweep_sessions() -> dict[str, int]:
    """Ends timed-out, idle, blocked and unlicensed sessions: the monitor shows them ended."""
    return sessions_sweep()


@task()
def prune_finished_tasks() -> None:
    """The sweep runs every minute; its finished results are kept a day."""
    call_command("prune_db_task_results", "--min-age-days", "1", "--queue-name", "*")


@task()
def purge_sessions() -> int:
    """Ended sessions older than the vendor's retention period are deleted, in batches."""
    return sessions_purge()
