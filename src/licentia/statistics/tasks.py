from django_tasks import task

from licentia.statistics.services import statistics_rollup


@task()
def rollup_statistics() -> int:
    """Rolls up the days completed since the last run (all history on the first run) and the
    metrics received meanwhile; answers the days rolled up."""
    return statistics_rollup()
