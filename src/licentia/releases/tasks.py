from django_tasks import task

from licentia.releases.services import release_mails_write


@task()
def write_release_mail() -> dict[str, int]:
    """Plans the mail of the releases whose delay has passed and sends what today's limit
    allows."""
    return release_mails_write()
