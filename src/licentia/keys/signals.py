"""What the keys app tells the apps above it. Each is sent inside the transaction of the change,
so a receiver's writes commit or roll back with it."""

from django.dispatch import Signal

# A key was generated for a client: kwargs key, actor.
key_created = Signal()
# A key was blocked: kwargs key, moment. A blocked key holds no seat from that moment.
key_blocked = Signal()
# Asks how many sessions a key holds open: kwargs key; each receiver answers a count.
key_open_sessions = Signal()
