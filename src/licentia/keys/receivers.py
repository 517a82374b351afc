"""How keys answers the clients app: a client is found by the numbers of its keys, and cannot
be deleted while one of them holds a product or a session."""

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils.translation import gettext as _

from licentia.clients.models import Client
from licentia.clients.signals import (
    client_deleting,
    client_deletion_blockers,
    client_exact_match,
    client_search_values,
)
from licentia.core import keycodes
from licentia.keys.models import KeyLine, LicenseKey


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
    with_lines = KeyLine.objects.filter(key__client=client).values_list("key__number", flat=True)
    with_sessions = LicenseKey.objects.filter(
        client=client, sessions__id__isnull=False, sessions__ended_at__isnull=True
    ).values_list("number", flat=True)
    holding = sorted(set(with_lines) | set(with_sessions))
    return [
        _(
            "Key %(key)s holds products or sessions. Merge this client with another one, or "
            "move the key to another client, instead of deleting."
        )
        % {"key": number}
        for number in holding
    ]


@receiver(client_deleting)
def delete_empty_keys(*, client: Client, **kwargs: Any) -> dict[str, list[str]]:
    keys = list(LicenseKey.objects.select_for_update().filter(client=client))
    for key in keys:
        key.delete()
    return {"license_keys": [key.number for key in keys]}
