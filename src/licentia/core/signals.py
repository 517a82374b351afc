from typing import Any

from django.dispatch import Signal


def signal_answers(signal: Signal, *, sender: type, **kwargs: Any) -> list[Any]:
    """What each receiver answered, for a signal by which a lower app asks the apps above it
    (the order of answers is the order the receivers were connected in)."""
    return [answer for _receiver, answer in signal.send(sender=sender, **kwargs)]


# Sent by releases when a client's new-release mail is due; the mail app answers by queueing
# it. Arguments: key (the client's key that may have the release) and context (the template's
# variables of the release, in the client's language). Defined here, below both apps, because
# apps on one floor never import each other.
release_mail_due = Signal()
