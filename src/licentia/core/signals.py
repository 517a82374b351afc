from typing import Any

from django.dispatch import Signal


def signal_answers(signal: Signal, *, sender: type, **kwargs: Any) -> list[Any]:
    """What each receiver answered, for a signal by which a lower app asks the apps above it
    (the order of answers is the order the receivers were connected in)."""
    return [answer for _receiver, answer in signal.send(sender=sender, **kwargs)]
