from django_tasks import task

from licentia.portal.services import portal_records_prune


@task()
def prune_portal_records() -> int:
    """Old sign-in links and ended client cabinet sessions are forgotten."""
    return portal_records_prune()
