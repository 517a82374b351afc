"""What the licensing app tells the apps above it (notifications, statistics)."""

from django.dispatch import Signal

# A trial line was added, in the trial's transaction: kwargs line, key.
trial_registered = Signal()
# A capture was refused and recorded as a Problem, in the transaction that recorded it:
# kwargs key (None when unknown), key_number, feature_id, code, unit, moment.
capture_refused = Signal()
# Ended sessions are about to be purged: no kwargs. Answer: the earliest `ended_at` moment
# whose sessions the receiver still needs (or None); the purge keeps everything at or after
# the earliest answer.
sessions_purge_horizon = Signal()
