from django_tasks import task

from licentia.notifications.delivery import outbox_send_due
from licentia.notifications.services import digests_write, problem_alerts_flush, reminders_write


@task()
def send_outbox() -> dict[str, int]:
    """Sends the mail that is due; enqueued when mail is written and every minute for retries."""
    return outbox_send_due()


@task()
def write_reminders() -> dict[str, int]:
    """The day's expiry reminders, expired mail, waiting problem mail and managers' digests;
    safe to run any number of times on any number of workers."""
    counts = reminders_write()
    counts["problems"] = problem_alerts_flush()
    counts["digests"] = digests_write()
    if any(counts.values()):
        send_outbox.enqueue()
    return counts
