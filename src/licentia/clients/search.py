"""Quick search over clients (строка быстрого поиска).

Every searchable value of a client is cut into normalised words (case-folded, ё as е), kept as
search tokens; a query is normalised the same way and each of its words must start some token of
the client. Prefix matching on one indexed column is what both databases do fast and the same
way: no collation is involved (SQLite's LIKE folds only ASCII case), and a million clients cost
an index range scan, not a table scan. Phones are kept as the digit strings people type (with 7,
with 8, without the country code, the local number), keys with and without dashes. Exact hits on
a key, an e-mail, an INN or a phone come first.
"""

import re
from contextlib import suppress

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from licentia.cabinet.paginator import COUNT_LIMIT
from licentia.clients.models import Client, ClientFieldDefinition, ClientSearchToken, ExtraFieldKind
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
TOKEN_LENGTH = ClientSearchToken._meta.get_field("token").max_length or 100
_PUNCTUATION = re.compile(r"[\W_]+")
_EDGE_PUNCTUATION = "\"'«»“”„()[]{}.,;:!?"
# Above every character, so that [term, term + this) holds exactly the strings starting with term.
_AFTER_ALL = "\U0010ffff"


def extra_text_codes() -> set[str]:
    return set(
        ClientFieldDefinition.objects.filter(kind=ExtraFieldKind.TEXT).values_list(
            "code", flat=True
        )
    )


def _words(text: str) -> set[str]:
    """The words of a value, and the parts of words joined by punctuation («ёлочка», b7e1-guid,
    buh@firm.ru give елочка; b7e1-guid, b7e1, guid; buh@firm.ru, buh, firm, ru)."""
    words: set[str] = set()
    for word in search_normalize(text).split():
        words.add(word.strip(_EDGE_PUNCTUATION))
        words.update(_PUNCTUATION.split(word))
    return {word[:TOKEN_LENGTH] for word in words if word}


def client_search_tokens(
    client: Client, *, key_numbers: list[str], text_codes: set[str] | None = None
) -> set[str]:
    """The client's search tokens; `text_codes` (the codes of the text additional fields) may be
    given when indexing many clients at once."""
    if text_codes is None:
        text_codes = extra_text_codes()
    values = [
        client.company,
        client.contact,
        client.email,
        client.alert_email,
        client.crm_id1,
        client.crm_id2,
        client.comment,
        client.phone,
        *(str(client.extra[code]) for code in sorted(text_codes & client.extra.keys())),
        *key_numbers,
    ]
    tokens: set[str] = set()
    for value in values:
        tokens |= _words(value)
    for form in phone_search_forms(client.phone_e164):
        tokens.add(form)
    tokens.update(keycodes.compact(number).lower() for number in key_numbers)
    return tokens


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
    # No ordering: with the model's default one, SQLite walks the company index instead.
    return {client_id for lookup in lookups for client_id in lookup.order_by()}


def _tokens_starting_with(prefix: str) -> QuerySet[ClientSearchToken]:
    """An index range scan on both databases: PostgreSQL's LIKE 'x%' over a pattern-ops index,
    SQLite's binary order."""
    if connection.vendor == "postgresql":
        return ClientSearchToken.objects.filter(token__startswith=prefix)
    return ClientSearchToken.objects.filter(token__gte=prefix, token__lt=prefix + _AFTER_ALL)


def _few_ids_starting_with(prefix: str) -> set[int] | None:
    """The ids of the clients with a token starting with `prefix` when there are at most
    COUNT_LIMIT of them, else None: a range of the token index, read no further than needed."""
    rows = _tokens_starting_with(prefix).values_list("client_id", flat=True)[: COUNT_LIMIT + 1]
    if connection.vendor != "postgresql":
        found = list(rows)
    else:
        # A prefix is a range of the token index, and reading at most COUNT_LIMIT + 1 entries
        # of it is never slow. PostgreSQL's guess of how common a long prefix is can be far
        # too high, and then it scans the whole table hoping to stop early.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            found = list(rows)
    return set(found) if len(found) <= COUNT_LIMIT else None


def _matching_ids(prefixes: list[str]) -> list[int]:
    """The ids of the clients with a token starting with each prefix: all of them when there
    are at most COUNT_LIMIT, else the newest COUNT_LIMIT + 1. Read from the token indexes."""
    found = {prefix: _few_ids_starting_with(prefix) for prefix in prefixes}
    few = [ids for ids in found.values() if ids is not None]
    if few:
        candidates = set.intersection(*few)
        for prefix, ids in found.items():
            if candidates and ids is None:
                candidates &= set(
                    _tokens_starting_with(prefix)
                    .filter(client_id__in=candidates)
                    .values_list("client_id", flat=True)
                )
        return list(candidates)
    # Every word is common: the database intersects them whole, then keeps the newest.
    matching = _tokens_starting_with(prefixes[0]).values("client_id")
    if len(prefixes) == 1:
        matching = matching.distinct()
    for prefix in prefixes[1:]:
        matching = matching.intersection(_tokens_starting_with(prefix).values("client_id"))
    return [row["client_id"] for row in matching.order_by("-client_id")[: COUNT_LIMIT + 1]]


def _id_among(ids: list[int]) -> Q:
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of placeholders to build and to plan.
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return Q(pk__in=ids)


def _terms(query: str) -> list[str]:
    """The query as prefixes that must all match."""
    if looks_like_phone(query):
        return [digits_only(query)]
    compact_key = keycodes.compact(query).lower()
    if keycodes.parse_code(compact_key, prefix_length=keycodes.PREFIX_LENGTH) is not None:
        return [compact_key]
    words = (word.strip(_EDGE_PUNCTUATION) for word in search_normalize(query).split())
    return [word[:TOKEN_LENGTH] for word in words if word]


def client_search(*, query: str, queryset: QuerySet[Client] | None = None) -> QuerySet[Client]:
    """Clients every word of whose query starts a word of theirs, by company name (when more
    than COUNT_LIMIT match, the newest COUNT_LIMIT + 1 of them, newest first); when the query
    is exactly a key, an e-mail, an INN or a phone of some clients, those come first, annotated
    with `search_rank` 0 against 1 for the others."""
    clients = Client.objects.all() if queryset is None else queryset
    # A NUL character is no text anyone types, and PostgreSQL refuses it in any query.
    query = query.replace("\x00", "")
    terms = _terms(query)
    if not terms:
        return clients.order_by("company", "id")
    # When few clients match, the page is those clients by company. When many do, it is the
    # newest of them: sorting thousands by company costs a read of each, and walking the
    # company index instead is slow exactly when the words go with the start of the name
    # (ООО, ИП) that the index is sorted by.
    ids = _matching_ids(terms)
    exact_ids = _exact_match_ids(query)
    order = ("company", "id") if len(ids) <= COUNT_LIMIT else ("-id",)
    # One list of ids: an OR of two conditions would make the database scan the table.
    matches = _id_among([*exact_ids, *(set(ids) - exact_ids)])
    if not exact_ids:
        return clients.filter(matches).order_by(*order)
    ranked = clients.filter(matches).annotate(
        search_rank=Case(
            When(pk__in=exact_ids, then=Value(EXACT)),
            default=Value(PARTIAL),
            output_field=IntegerField(),
        )
    )
    return ranked.order_by("search_rank", *order)
