"""Quick search over clients (строка быстрого поиска).

Every searchable value of a client is cut into normalised words (case-folded, ё as е), kept as
search tokens; a query is normalised the same way and each of its words must start some token of
the client. Prefix matching on one indexed column is what both databases do fast and the same
way: no collation is involved (SQLite's LIKE folds only ASCII case), and a million clients cost
an index range scan, not a table scan. Phones are kept as the digit strings people type (with 7,
with 8, without the country code, the local number), keys with and without dashes. Exact hits on
a key, an e-mail, an INN or a phone come first.
"""

import heapq
import itertools
import re
from contextlib import suppress
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from licentia.clients.models import Client, ClientFieldDefinition, ClientSearchToken, ExtraFieldKind
from licentia.clients.signals import client_exact_match
from licentia.core import keycodes
from licentia.core.normalize import (
    digits_only,
    looks_like_inn,
    looks_like_phone,
    normalize_phone,
    phone_search_forms,
    search_normalize,
)
from licentia.core.paginator import COUNT_LIMIT
from licentia.core.signals import signal_answers

EXACT = 0
PARTIAL = 1
TOKEN_LENGTH = ClientSearchToken._meta.get_field("token").max_length or 100
_PUNCTUATION = re.compile(r"[\W_]+")
_EDGE_PUNCTUATION = "\"'«»“”„()[]{}.,;:!?"
# Above every character, so that [term, term + this) holds exactly the strings starting with term.
_AFTER_ALL = "\U0010ffff"
_TOKEN_TABLE = ClientSearchToken._meta.db_table


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
    client: Client, *, linked_values: list[str], text_codes: set[str] | None = None
) -> set[str]:
    """The client's search tokens, `linked_values` being what other apps find it by (the
    numbers of its keys); `text_codes` (the codes of the text additional fields) may be given
    when indexing many clients at once."""
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
        *linked_values,
    ]
    tokens: set[str] = set()
    for value in values:
        tokens |= _words(value)
    for form in phone_search_forms(client.phone_e164):
        tokens.add(form)
    # A key number is typed with dashes or without them.
    tokens.update(keycodes.compact(value).lower() for value in linked_values)
    return tokens


def _exact_match_ids(query: str) -> set[int]:
    """Clients whose key, e-mail, INN or phone is exactly what was typed; each looked up on its
    own index, as one query with OR between them would scan the table."""
    text = query.strip()
    lookups: list[QuerySet] = [
        found
        for found in signal_answers(client_exact_match, sender=Client, text=text)
        if found is not None
    ]
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


def token_is_simple(token: str) -> bool:
    """A word without punctuation (see ClientSearchToken.simple)."""
    return _PUNCTUATION.search(token) is None


def _tokens_starting_with(prefix: str) -> QuerySet[ClientSearchToken]:
    """An index range scan on both databases: PostgreSQL's LIKE 'x%' over a pattern-ops index,
    SQLite's binary order; among simple words only when the prefix is one."""
    tokens = ClientSearchToken.objects.filter(simple=token_is_simple(prefix))
    if connection.vendor == "postgresql":
        return tokens.filter(token__startswith=prefix)
    return tokens.filter(token__gte=prefix, token__lt=prefix + _AFTER_ALL)


def _few_ids_starting_with(prefixes: list[str]) -> dict[str, set[int] | None]:
    """Per prefix, the ids of the clients with a token starting with it when there are at most
    COUNT_LIMIT of them, else None: a range of the token index, read no further than needed."""
    if connection.vendor != "postgresql":
        found = {
            prefix: set(
                _tokens_starting_with(prefix).values_list("client_id", flat=True)[: COUNT_LIMIT + 1]
            )
            for prefix in prefixes
        }
    else:
        found = {}
        with transaction.atomic(), connection.cursor() as cursor:
            # A prefix is a range of the token index, and reading at most COUNT_LIMIT + 1
            # entries of it is never slow. PostgreSQL's guess of how common a long prefix is
            # can be far too high, and then it scans the whole table hoping to stop early.
            cursor.execute("SET LOCAL enable_seqscan = off")
            for prefix in prefixes:
                cursor.execute(
                    f"SELECT client_id FROM {_TOKEN_TABLE} "  # noqa: S608 - our table's name
                    "WHERE simple = %s AND token LIKE %s LIMIT %s",
                    [token_is_simple(prefix), _like_prefix(prefix), COUNT_LIMIT + 1],
                )
                found[prefix] = {client_id for (client_id,) in cursor.fetchall()}
    return {prefix: ids if len(ids) <= COUNT_LIMIT else None for prefix, ids in found.items()}


def _like_prefix(prefix: str) -> str:
    """LIKE 'prefix%', the prefix's own wildcards escaped (a compound token may hold _ or %)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _matching_ids(prefixes: list[str]) -> list[int]:
    """The ids of the clients with a token starting with each prefix: all of them when there
    are at most COUNT_LIMIT, else the newest COUNT_LIMIT + 1. Read from the token indexes."""
    found = _few_ids_starting_with(prefixes)
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
    if connection.vendor == "postgresql":
        newest = _newest_with_common_words(prefixes)
        if newest is not None:
            return newest
    # Every word is common: the database intersects them whole, then keeps the newest.
    matching = _tokens_starting_with(prefixes[0]).values("client_id")
    if len(prefixes) == 1:
        matching = matching.distinct()
    for prefix in prefixes[1:]:
        matching = matching.intersection(_tokens_starting_with(prefix).values("client_id"))
    return [row["client_id"] for row in matching.order_by("-client_id")[: COUNT_LIMIT + 1]]


# How many distinct words a typed word may stand for, and how many combinations of them the
# query may make, for the fast path below; past these, the database reads the ranges whole.
MAX_WORDS_PER_PREFIX = 16
MAX_COMBINATIONS = 8


def _simple_words_starting_with(cursor: Any, prefix: str) -> list[str] | None:
    """The distinct simple words starting with `prefix`, when there are at most
    MAX_WORDS_PER_PREFIX: one index probe each (a loose index scan), however many clients use
    them. None when there are more."""
    cursor.execute(
        f"""
        WITH RECURSIVE word(token) AS (
            (SELECT token FROM {_TOKEN_TABLE}
             WHERE simple AND token LIKE %(like)s ORDER BY token USING ~<~ LIMIT 1)
            UNION ALL
            SELECT (SELECT t.token FROM {_TOKEN_TABLE} t
                    WHERE t.simple AND t.token ~>~ word.token AND t.token LIKE %(like)s
                    ORDER BY t.token USING ~<~ LIMIT 1)
            FROM word WHERE word.token IS NOT NULL
        )
        SELECT token FROM word WHERE token IS NOT NULL LIMIT %(limit)s
        """,  # noqa: S608 - the table name is ours
        {"like": _like_prefix(prefix), "limit": MAX_WORDS_PER_PREFIX + 1},
    )
    words = [token for (token,) in cursor.fetchall()]
    return words if len(words) <= MAX_WORDS_PER_PREFIX else None


def _newest_with_common_words(prefixes: list[str]) -> list[int] | None:
    """PostgreSQL: the newest COUNT_LIMIT + 1 clients having every word, when each typed word
    stands for a few whole words. Each combination of whole words is a merge join of backward
    index scans, which reads the newest entries first and stops at the limit; the combinations
    are merged here. None when the words are too many (or hold punctuation)."""
    if not all(token_is_simple(prefix) for prefix in prefixes):
        return None
    with transaction.atomic(), connection.cursor() as cursor:
        # Both sides of every join are read in client order already: merging them reads each
        # once. PostgreSQL's estimate of a word that is not among its most common values can be
        # a hundred times too low, and then it probes one side per entry of the other instead.
        cursor.execute("SET LOCAL enable_nestloop = off; SET LOCAL enable_hashjoin = off")
        words = [_simple_words_starting_with(cursor, prefix) for prefix in prefixes]
        if any(found is None for found in words):
            return None
        combinations = list(itertools.product(*(found or [] for found in words)))
        if len(combinations) > MAX_COMBINATIONS:
            return None
        joins = " ".join(
            f"JOIN {_TOKEN_TABLE} t{n} ON t{n}.client_id = t0.client_id "
            f"AND t{n}.simple AND t{n}.token = %s"
            for n in range(1, len(prefixes))
        )
        newest_first = []
        for combination in combinations:
            cursor.execute(
                f"SELECT t0.client_id FROM {_TOKEN_TABLE} t0 {joins} "  # noqa: S608
                "WHERE t0.simple AND t0.token = %s ORDER BY t0.client_id DESC LIMIT %s",
                [*combination[1:], combination[0], COUNT_LIMIT + 1],
            )
            newest_first.append([client_id for (client_id,) in cursor.fetchall()])
    merged = heapq.merge(*newest_first, reverse=True)
    return list(itertools.islice(dict.fromkeys(merged), COUNT_LIMIT + 1))


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
    if keycodes.key_number(compact_key) is not None:
        return [compact_key]
    terms: list[str] = []
    for word in search_normalize(query).split():
        word = word.strip(_EDGE_PUNCTUATION)
        if word.startswith("+") and word[1:].isdigit():
            # A phone typed with its plus, too short yet to look like a phone: +7912.
            word = word[1:]
        if "@" in word or "." in word:
            # An e-mail's domain, or a part of an address: each of its parts starts a word of
            # the client's e-mail (romashka.example, @romashka.example).
            terms.extend(part for part in _PUNCTUATION.split(word) if part)
        elif word:
            terms.append(word)
    return [term[:TOKEN_LENGTH] for term in terms]


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
