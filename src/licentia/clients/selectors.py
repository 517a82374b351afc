from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import Length
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from licentia.clients.models import Client, ClientSearchToken
from licentia.core.normalize import looks_like_inn

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


def _inn_typed_elsewhere() -> list[DuplicateGroup]:
    """The INN in one client's CRM ID1 typed into another client's card elsewhere: its CRM ID2,
    comment, company or a text field (found among the other client's search words)."""
    inns = (
        Client.objects.annotate(length=Length("crm_id1"))
        .filter(length__in=(10, 12))
        .values("crm_id1")
    )
    hits = (
        ClientSearchToken.objects.filter(token__in=inns)
        .exclude(client__crm_id1=F("token"))
        .values_list("token", "client_id")
        .order_by("token", "client_id")
    )
    others: dict[str, list[int]] = {}
    for token, client_id in hits.iterator():
        if not looks_like_inn(token):
            continue
        if token not in others and len(others) == DUPLICATE_GROUPS_PER_KIND:
            break
        others.setdefault(token, []).append(client_id)
    if not others:
        return []
    found = Client.objects.filter(
        Q(crm_id1__in=others) | Q(pk__in=[pk for ids in others.values() for pk in ids])
    )
    by_id = {client.pk: client for client in found.order_by("id")}
    owners: dict[str, list[Client]] = {}
    for client in by_id.values():
        owners.setdefault(client.crm_id1, []).append(client)
    return [
        DuplicateGroup(
            kind="inn_elsewhere",
            reason=str(_("INN (CRM ID1) typed in another client's card")),
            value=inn,
            clients=[*owners.get(inn, []), *(by_id[pk] for pk in client_ids if pk in by_id)],
        )
        for inn, client_ids in others.items()
    ]


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
    return groups + _inn_typed_elsewhere()
