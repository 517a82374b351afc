"""What the clients app asks of the apps above it, which hang their own records on a client
(keys: license keys). Each is sent inside the transaction of the change, so a receiver's writes
commit or roll back with it; a receiver answers with a value, as the comments say."""

from django.dispatch import Signal

# The clients' search tokens are being made: kwargs clients (a list). Answer: {client id:
# [value, ...]}, more values of theirs to find them by (keys: the numbers of their keys).
client_search_values = Signal()
# The quick search asks which clients the typed text names exactly: kwargs text. Answer: a
# queryset of client ids (keys: the client of the key the text is a number of), or None.
client_exact_match = Signal()
# A client is to be deleted: kwargs client. Answer: a list of reasons why it cannot be.
client_deletion_blockers = Signal()
# What happened to clients, for the apps above (webhooks), sent inside the change's
# transaction: kwargs client (a fresh copy), actor.
client_created = Signal()
client_updated = Signal()
# kwargs client (the main one, as merged), merged_ids (the removed duplicates), actor.
clients_merged = Signal()
# kwargs client_id, card (its fields as the audit keeps them), actor; after the row is gone.
client_deleted = Signal()
# A client is being deleted, nothing blocking it: kwargs client. A receiver deletes what of
# its own hangs on the client and answers with what the audit event keeps of it: {name: value}.
client_deleting = Signal()
