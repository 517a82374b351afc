from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from licentia.clients.models import Client

DUPLICATE_GROUPS_PER_KIND = 100
# The fields that make two cards the same company, with what the group is called.
DUPLICATE_CRITERIA: tuple[tuple[str, Promise], ...] = (
    ("crm_id1", _("same INN (CRM ID1)")),
    ("email", _("same e-mail")),
    ("phone_e164", _("same phone")),
    ("company_key", _("near-identical company name")),
)


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str
    reason: str
    value: str
    clients: list[Client]

    @property
    def ids(self) -> str:
        return ",".join(str(client.pk) for client in self.clients)


def client_find_by_crm_id(*, crm_id1: str = "", crm_id2: str = "") -> Client | None:
    """The client a CRM (usually 1C) knows by its INN or counterparty id; CRM ID2 wins when
    both are given, being the CRM's own key. None when there is none or it is ambiguous."""
    for name, value in (("crm_id2", crm_id2.strip()), ("crm_id1", crm_id1.strip())):
        if value:
            matches = list(Client.objects.filter(**{name: value})[:2])
            if len(matches) == 1:
                return matches[0]
    return None


def possible_duplicates() -> list[DuplicateGroup]:
    groups: list[DuplicateGroup] = []
    for field, reason in DUPLICATE_CRITERIA:
        values = (
            Client.objects.exclude(**{field: ""})
            .values(field)
            .annotate(count=Count("id"))
            .filter(count__gt=1)
            .order_by("-count", field)
            .values_list(field, flat=True)[:DUPLICATE_GROUPS_PER_KIND]
        )
        values = list(values)
        if not values:
            continue
        members: dict[str, list[Client]] = {value: [] for value in values}
        for client in Client.objects.filter(Q(**{f"{field}__in": values})).order_by("id"):
            members[getattr(client, field)].append(client)
        groups += [
            DuplicateGroup(kind=field, reason=str(reason), value=value, clients=clients)
            for value, clients in members.items()
        ]
    return groups
