"""Quick search over clients (строка быстрого поиска).

Every searchable value of a client is kept normalised in `Client.search_text` (case-folded, ё as
е, phones as the digit strings people type, keys with and without dashes), so a query is
normalised the same way and matched with a plain substring test that needs no collation
(SQLite's LIKE folds only ASCII case), so both databases agree. The substring test is served by
a trigram index on both: pg_trgm on PostgreSQL, an FTS5 trigram table on SQLite. Exact hits on a
key, an e-mail, an INN or a phone come first.
"""

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from licentia.clients.models import Client, ClientFieldDefinition, ExtraFieldKind
from licentia.clients.sqlite_fts import fts_phrase
from licentia.core import keycodes
from licentia.core.normalize import (
    digits_only,
    looks_like_inn,
    looks_like_phone,
    normalize_phone,
    phone_search_forms,
    search_normalize,
)
from licentia.keys.models import LicenseKey

EXACT = 0
PARTIAL = 1
TRIGRAM = 3


def extra_text_codes() -> set[str]:
    return set(
        ClientFieldDefinition.objects.filter(kind=ExtraFieldKind.TEXT).values_list(
            "code", flat=True
        )
    )


def client_search_text(
    client: Client, *, key_numbers: list[str], text_codes: set[str] | None = None
) -> str:
    """The client's searchable values, normalised; `text_codes` (the codes of the text
    additional fields) may be given when building many at once."""
    if text_codes is None:
        text_codes = extra_text_codes()
    parts = [
        client.company,
        client.contact,
        client.email,
        client.alert_email,
        client.crm_id1,
        client.crm_id2,
        client.comment,
        client.phone,
        *phone_search_forms(client.phone_e164),
        *(str(client.extra[code]) for code in sorted(text_codes & client.extra.keys())),
    ]
    for number in key_numbers:
        parts += [number, keycodes.compact(number)]
    return "\n".join(normalized for part in parts if (normalized := search_normalize(part)))


def _exact_match_ids(query: str) -> set[int]:
    """Clients whose key, e-mail, INN or phone is exactly what was typed; each looked up on its
    own index, as one query with OR between them would scan the table."""
    text = query.strip()
    lookups: list[QuerySet] = []
    parsed = keycodes.parse_code(text, prefix_length=keycodes.PREFIX_LENGTH)
    if parsed is not None:
        number = keycodes.format_code(*parsed)
        lookups.append(LicenseKey.objects.filter(number=number).values_list("client_id", flat=True))
    if "@" in text:
        lookups.append(Client.objects.filter(email=text.lower()).values_list("pk", flat=True))
        lookups.append(Client.objects.filter(alert_email=text.lower()).values_list("pk", flat=True))
    if looks_like_inn(text):
        lookups.append(Client.objects.filter(crm_id1=text).values_list("pk", flat=True))
    if looks_like_phone(text):
        with suppress(ValidationError):
            phone = normalize_phone(text)
            lookups.append(Client.objects.filter(phone_e164=phone).values_list("pk", flat=True))
    return {client_id for lookup in lookups for client_id in lookup}


def _contains(text: str) -> Q:
    """Clients whose search text contains `text`; on SQLite through the trigram index, which
    needs three characters at least."""
    if connection.vendor == "sqlite" and len(text) >= TRIGRAM:
        return Q(
            pk__in=RawSQL(
                "SELECT rowid FROM clients_client_fts WHERE clients_client_fts MATCH %s",
                [fts_phrase(text)],
            )
        )
    return Q(search_text__contains=text)


def _terms(query: str) -> list[list[str]]:
    """The query as terms that must all match; each term has alternative spellings."""
    if looks_like_phone(query):
        return [[digits_only(query)]]
    words = search_normalize(query).split()
    compact_key = keycodes.compact(query).lower()
    if (
        len(words) > 1
        and keycodes.parse_code(compact_key, prefix_length=keycodes.PREFIX_LENGTH) is not None
    ):
        return [[compact_key]]
    return [[word] for word in words]


def client_search(*, query: str, queryset: QuerySet[Client] | None = None) -> QuerySet[Client]:
    """Clients matching every term of the query, by company name; when the query is exactly a
    key, an e-mail, an INN or a phone of some clients, those come first, annotated with
    `search_rank` 0 against 1 for the others."""
    clients = Client.objects.all() if queryset is None else queryset
    if not query.strip():
        return clients.order_by("company", "id")
    matches = Q()
    for alternatives in _terms(query):
        term = Q(pk__in=[])
        for alternative in alternatives:
            term |= _contains(alternative)
        matches &= term
    exact_ids = _exact_match_ids(query)
    if not exact_ids:
        # Without a rank to sort by, the database can walk the company index and stop at the
        # first page, which keeps a common word fast in a large directory.
        return clients.filter(matches).order_by("company", "id")
    ranked = clients.filter(matches | Q(pk__in=exact_ids)).annotate(
        search_rank=Case(
            When(pk__in=exact_ids, then=Value(EXACT)),
            default=Value(PARTIAL),
            output_field=IntegerField(),
        )
    )
    return ranked.order_by("search_rank", "company", "id")
