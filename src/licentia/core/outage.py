"""When the database cannot be reached: the errors that mean it, and how long a caller should
wait before it asks again."""

from django.db import InterfaceError, OperationalError

# Raised when the server is down or restarting, the network to it is cut, or a connection it
# held was broken (InterfaceError: "connection already closed").
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)

RETRY_AFTER_SECONDS = 5
