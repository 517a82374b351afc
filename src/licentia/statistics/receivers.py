"""How statistics reacts to the apps below it."""

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from licentia.licensing.signals import sessions_purge_horizon
from licentia.statistics.services import purge_horizon


@receiver(sessions_purge_horizon)
def sessions_needed_from(**_: Any) -> datetime:
    # The days not yet rolled up read the sessions that ended on or after their first instant.
    return purge_horizon()
