"""How keys answers the clients app: a client is found by the numbers of its keys, and cannot
be deleted while one of them holds a purchased product or a trial that has not ended (the
licensing app adds the keys used lately)."""

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from licentia.clients.models import Client
from licentia.clients.signals import (
    client_deleting,
    client_deletion_blockers,
    client_exact_match,
    client_search_values,
)
from licentia.core import keycodes
from licentia.keys.models import KeyLine, LicenseKey, LineState
from licentia.keys.selectors import line_is_live, line_sentence, lines_with_products


@receiver(client_search_values)
def key_numbers_of_clients(*, clients: list[Client], **kwargs: Any) -> dict[int, list[str]]:
    numbers: dict[int, list[str]] = defaultdict(list)
    keys = LicenseKey.objects.filter(client__in=clients).order_by()
    for client_id, number in keys.values_list("client_id", "number"):
        numbers[client_id].append(number)
    return numbers


@receiver(client_exact_match)
def client_of_key_number(*, text: str, **kwargs: Any) -> QuerySet | None:
    number = keycodes.key_number(text)
    if number is None:
        return None
    return LicenseKey.objects.filter(number=number).values_list("client_id", flat=True)


@receiver(client_deletion_blockers)
def keys_in_use(*, client: Client, **kwargs: Any) -> list[str]:
    """A client that bought something, or whose trial still runs, is kept: its keys are its
    history. Only trials that have ended leave nothing worth keeping."""
    moment = timezone.now()
    lines = lines_with_products(
        list(KeyLine.objects.filter(key__client=client).select_related("key").order_by("id"))
    )
    reasons = []
    for line in lines:
        if not line.is_trial:
            reason = _(
                "Key %(key)s holds a purchased product, %(product)s. Merge this client with "
                "another one, or move the key to another client, instead of deleting."
            )
        elif line_is_live(line, at=moment) or (
            line.state == LineState.ACTIVE and line.starts_at > moment
        ):
            reason = _(
                "Key %(key)s holds a trial of %(product)s that has not ended. End the trial "
                "first, or merge this client with another one, instead of deleting."
            )
        else:
            continue
        reasons.append(reason % {"key": line.key.number, "product": line.product.name})
    return reasons


@receiver(client_deleting)
def delete_keys_of_ended_trials(*, client: Client, **kwargs: Any) -> dict[str, Any]:
    """The keys go with the client, with whatever hangs on them; the audit event keeps each
    key's lines as the card showed them."""
    keys = list(LicenseKey.objects.select_for_update().filter(client=client).order_by("id"))
    lines = lines_with_products(list(KeyLine.objects.filter(key__in=keys).order_by("id")))
    held: dict[str, list[str]] = {key.number: [] for key in keys}
    numbers = {key.pk: key.number for key in keys}
    for line in lines:
        held[numbers[line.key_id]].append(
            f"{line.product.name} ({line.product_id}) × {line.multiplier}: {line_sentence(line)}"
        )
    for key in keys:
        key.delete()
    return {"license_keys": [key.number for key in keys], "key_lines": held}
