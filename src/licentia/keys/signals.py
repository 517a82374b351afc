"""What the keys app tells the apps above it. Each is sent inside the transaction of the change,
so a receiver's writes commit or roll back with it."""

from django.dispatch import Signal

# A key was generated for a client: kwargs key, actor.
key_created = Signal()
# A key was blocked: kwargs key, moment. A blocked key holds no seat from that moment.
key_blocked = Signal()
# The key card asks how much of each pool is in use: kwargs license_ (a KeyLicense), moment.
# Answer: rows with feature_id, feature_name, license_type, total, occupied, free (licensing
# knows the seats held and the tokens consumed).
key_usage_asked = Signal()
