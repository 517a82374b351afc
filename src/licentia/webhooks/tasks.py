from django_tasks import task

from licentia.webhooks.delivery import deliveries_send_due
from licentia.webhooks.services import line_events_write


@task()
def send_webhooks() -> dict[str, int]:
    """Sends the deliveries that are due; enqueued when one is written, and every minute."""
    return deliveries_send_due()


@task()
def write_line_events() -> dict[str, int]:
    """line.expiring and line.expired, each once per line; safe to run on any worker."""
    counts = line_events_write()
    if any(counts.values()):
        send_webhooks.enqueue()
    return counts
