"""What the licensing app tells the apps above it (notifications, statistics)."""

from django.dispatch import Signal

# A trial line was added, in the trial's transaction: kwargs line, key.
trial_registered = Signal()
# A capture was refused and recorded as a Problem, in the transaction that recorded it:
# kwargs key (None when unknown), key_number, feature_id, code, unit, moment.
capture_refused = Signal()
# A manager, the API or the client reset a session, in the reset's transaction: kwargs session.
session_reset = Signal()
# The purge of ended sessions asks, before deleting any: kwargs moment. Each receiver answers
# the earliest ended_at it still needs to read (sessions ended at or after it are kept), or
# None when it needs none.
sessions_purge_horizon = Signal()
