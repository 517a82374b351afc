"""SQL of the protocol's hot path, written out: compiling the equivalent ORM queries costs
several times more than running them (bench/RESULTS.md), and capture, heartbeat and release
are what every protected application calls all day. Each returns model instances or plain
values; tests run them on both databases."""

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection

from licentia.clients.models import Client
from licentia.core import rawsql
from licentia.core.rawsql import models_from_rows, select_list
from licentia.keys.models import KeyLine, LicenseKey
from licentia.licensing.models import EndReason, Session

# The seat rule of Session.holds_seat, for SQL written out.
SEAT_HELD_SQL = "s.ended_at IS NULL AND (s.holds_until IS NULL OR s.holds_until > %(moment)s)"


def _moment(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _session_id(value: UUID | str) -> Any:
    return Session._meta.get_field("public_id").get_db_prep_value(value, connection)


def _with_company(key: LicenseKey, company: str) -> LicenseKey:
    # The certificate names the company; the client's other fields load if ever asked for.
    key.client = Client.from_db(connection.alias, ["id", "company"], [key.client_id, company])
    return key


def key_with_lines(number: str, *, for_update: bool) -> tuple[LicenseKey, list[KeyLine]] | None:
    """The key with its client's company and its lines, in one read; the key row locked until
    the transaction ends when asked (PostgreSQL; SQLite's immediate transaction holds the
    whole database already)."""
    lock = " FOR UPDATE OF k" if for_update and connection.features.has_select_for_update else ""
    with rawsql.cursor() as cursor:
        cursor.execute(
            "SELECT k.id, k.number, k.client_id, k.blocked, c.company, "  # noqa: S608
            f"{select_list(KeyLine, 'l')} FROM keys_licensekey k "
            "JOIN clients_client c ON c.id = k.client_id "
            "LEFT JOIN keys_keyline l ON l.key_id = k.id "
            "WHERE k.number = %s ORDER BY l.id" + lock,
            [number],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    key_id, key_number, client_id, blocked, company = rows[0][:5]
    key = LicenseKey.from_db(
        connection.alias,
        ["id", "number", "client_id", "blocked"],
        [key_id, key_number, client_id, bool(blocked)],
    )
    lines = models_from_rows(KeyLine, [row for row in rows if row[5] is not None], start=5)
    return _with_company(key, company), lines


def seats_held(
    *, key_id: int, feature_id: int, moment: datetime, units: dict[str, str]
) -> tuple[dict[str, int], tuple[str, int] | None]:
    """Per license type the seats of the feature held now, and the type and id of a session
    by which the unit holds one already, as its name for that session's type (`units`:
    type → name); None when it holds none."""
    params: dict[str, Any] = {"key": key_id, "feature": feature_id, "moment": _moment(moment)}
    held_by_unit = []
    for index, (license_type, name) in enumerate(sorted(units.items())):
        params[f"type{index}"], params[f"unit{index}"] = license_type, name
        held_by_unit.append(f"(s.license_type = %(type{index})s AND s.unit = %(unit{index})s)")
    with rawsql.cursor() as cursor:
        cursor.execute(
            "SELECT s.license_type, COUNT(*), "  # noqa: S608 - constants and placeholders
            f"MAX(CASE WHEN {' OR '.join(held_by_unit) or 'FALSE'} THEN s.id END) "
            "FROM licensing_session s WHERE s.key_id = %(key)s AND s.feature_id = %(feature)s "
            f"AND {SEAT_HELD_SQL} GROUP BY s.license_type",
            params,
        )
        rows = cursor.fetchall()
    taken = {license_type: count for license_type, count, _mine in rows}
    mine = next(((kind, mine) for kind, _count, mine in rows if mine is not None), None)
    return taken, mine


@functools.cache
def _session_key_lines_sql(*, sessions: str, where: str) -> str:
    return (
        f"SELECT {select_list(Session, 's')}, k.number, k.client_id, k.blocked, c.company, "  # noqa: S608
        f"{select_list(KeyLine, 'l')} FROM {sessions} s "
        "JOIN keys_licensekey k ON k.id = s.key_id JOIN clients_client c ON c.id = k.client_id "
        f"LEFT JOIN keys_keyline l ON l.key_id = k.id {where} ORDER BY l.id"
    )


# A heartbeat renews the lease; a bound seat's idle limit moves on by the time since the last
# heartbeat, which keeps its length as set then (the service corrects it when the catalog's limit
# changed meanwhile).
_HEARTBEAT_SET = (
    "last_heartbeat_at = %(moment)s, lease_expires_at = %(lease)s, "
    "bound_until = CASE WHEN s.binding = 'bound' THEN {bound} ELSE s.bound_until END, "
    "holds_until = CASE WHEN s.binding = 'bound' THEN {bound} ELSE %(lease)s END"
)
_HEARTBEAT_WHERE = f"s.public_id = %(id)s AND s.released_at IS NULL AND {SEAT_HELD_SQL}"
# A heartbeat's transaction commits without waiting for its WAL to reach the disk (on
# PostgreSQL, for that transaction only): the wait cost heartbeats a sixth of their rate
# (bench/RESULTS.md, "…heartbeats that commit without waiting"). A crash may lose the last
# fraction of a second of lease renewals, which the applications' next heartbeats make again;
# nothing else is written there.
_COMMIT_WITHOUT_WAITING = "WHERE set_config('synchronous_commit', 'off', true) = 'off'"


def _session_key_lines(rows: list[Any]) -> tuple[Session, list[KeyLine]] | None:
    if not rows:
        return None
    width = len(Session._meta.concrete_fields)
    session = models_from_rows(Session, rows[:1])[0]
    number, client_id, blocked, company = rows[0][width : width + 4]
    key = LicenseKey.from_db(
        connection.alias,
        ["id", "number", "client_id", "blocked"],
        [session.key_id, number, client_id, bool(blocked)],
    )
    session.key = _with_company(key, company)
    lines_start = width + 4
    lines = models_from_rows(
        KeyLine, [row for row in rows if row[lines_start] is not None], start=lines_start
    )
    return session, lines


def session_heartbeat(
    *, public_id: UUID | str, moment: datetime, lease_expires_at: datetime
) -> tuple[Session, list[KeyLine]] | None:
    """Renews the lease of the session if it holds its seat and was not released, and returns it
    as renewed with its key, the client's company and the key's lines; None when it does not
    hold a seat. On PostgreSQL this is one statement, the heartbeat's only round trip, whose
    commit does not wait for the disk."""
    params = {
        "id": _session_id(public_id),
        "moment": _moment(moment),
        "lease": _moment(lease_expires_at),
    }
    with rawsql.cursor() as cursor:
        if connection.vendor == "postgresql":
            shifted = "s.bound_until + (%(moment)s - s.last_heartbeat_at)"
            renew = _HEARTBEAT_SET.format(bound=shifted)
            cursor.execute(
                f"WITH s AS (UPDATE licensing_session AS s SET {renew} "  # noqa: S608
                f"WHERE {_HEARTBEAT_WHERE} RETURNING {select_list(Session, 's')}) "
                + _session_key_lines_sql(sessions="s", where=_COMMIT_WITHOUT_WAITING),
                params,
            )
            return _session_key_lines(cursor.fetchall())
        # SQLite has no UPDATE in WITH and no interval arithmetic on its text times: the bound
        # seat keeps its idle limit here and the service moves it on; both statements are local.
        renew = _HEARTBEAT_SET.format(bound="s.bound_until")
        cursor.execute(
            f"UPDATE licensing_session AS s SET {renew} "  # noqa: S608
            f"WHERE {_HEARTBEAT_WHERE} RETURNING id",
            params,
        )
        renewed = cursor.fetchall()
        if not renewed:
            return None
        cursor.execute(
            _session_key_lines_sql(sessions="licensing_session", where="WHERE s.id = %s"),
            [renewed[0][0]],
        )
        return _session_key_lines(cursor.fetchall())


def session_extend(
    *,
    session_pk: int,
    moment: datetime,
    lease_expires_at: datetime,
    bound_until: datetime | None,
    holds_until: datetime | None,
) -> bool:
    """Renews the lease (and the idle limit of a bound seat) if the session still holds its
    seat and was not released; False when it did not."""
    with rawsql.cursor() as cursor:
        cursor.execute(
            "UPDATE licensing_session AS s SET last_heartbeat_at = %(moment)s, "  # noqa: S608
            "lease_expires_at = %(lease)s, holds_until = %(holds)s, "
            "bound_until = CASE WHEN s.binding = 'bound' THEN %(bound)s ELSE s.bound_until END "
            f"WHERE s.id = %(id)s AND s.released_at IS NULL AND {SEAT_HELD_SQL}",
            {
                "id": session_pk,
                "moment": _moment(moment),
                "lease": _moment(lease_expires_at),
                "bound": _moment(bound_until) if bound_until else None,
                "holds": _moment(holds_until) if holds_until else None,
            },
        )
        return cursor.rowcount == 1


def session_renew(*, session_pk: int, moment: datetime, changes: dict[str, Any]) -> Session | None:
    """Gives the session the changes if it still holds its seat, and returns it as changed;
    None when it no longer holds its seat."""
    assignments, values = rawsql.assignments(Session, changes)
    with rawsql.cursor() as cursor:
        cursor.execute(
            f"UPDATE licensing_session AS s SET {assignments} "  # noqa: S608
            f"WHERE s.id = %(id)s AND {SEAT_HELD_SQL} RETURNING {select_list(Session, None)}",
            {**values, "id": session_pk, "moment": _moment(moment)},
        )
        rows = cursor.fetchall()
    return models_from_rows(Session, rows)[0] if rows else None


def session_end_if_held(*, session_pk: int, moment: datetime, reason: str) -> None:
    with rawsql.cursor() as cursor:
        cursor.execute(
            "UPDATE licensing_session AS s SET ended_at = %(moment)s, end_reason = %(reason)s "  # noqa: S608
            f"WHERE s.id = %(id)s AND {SEAT_HELD_SQL}",
            {"id": session_pk, "moment": _moment(moment), "reason": reason},
        )


def session_release(public_id: UUID | str, moment: datetime) -> dict[str, Any] | None:
    """Releases the session once: a floating one ends, a bound one keeps its seat. Returns
    its release and end times, or None when there is no such session."""
    params = {
        "id": _session_id(public_id),
        "moment": _moment(moment),
        "released": EndReason.RELEASED.value,
    }
    with rawsql.cursor() as cursor:
        cursor.execute(
            "UPDATE licensing_session SET released_at = %(moment)s, "
            "lease_expires_at = %(moment)s, "
            "ended_at = CASE WHEN binding = 'floating' THEN %(moment)s ELSE NULL END, "
            "end_reason = CASE WHEN binding = 'floating' THEN %(released)s ELSE '' END "
            "WHERE public_id = %(id)s AND ended_at IS NULL AND released_at IS NULL "
            "RETURNING binding",
            params,
        )
        row = cursor.fetchone()
    if row is not None:
        return {"released_at": moment, "ended_at": moment if row[0] == "floating" else None}
    # Released before, or unknown.
    earlier = Session.objects.filter(public_id=public_id).values("released_at", "ended_at").first()
    return dict(earlier) if earlier is not None else None
